using BenchmarkDotNet.Running;
using AiGateway.Benchmarks;

// dotnet run -c Release --project bench/Micro -- --filter '*'   (see bench/README.md "Micro-benchmarks")
BenchmarkSwitcher.FromAssembly(typeof(Payloads).Assembly).Run(args);
