using LoadClient;

// Load driver and report writer for bench/run.sh. Usage: bench/README.md "Load client".
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: LoadClient loop|rate|hold|report [options]  (see bench/README.md)");
    return 2;
}

try
{
    var options = Options.Parse(args.AsSpan(1));
    return args[0] switch
    {
        "loop" => await LoadCommands.LoopAsync(options),
        "rate" => await LoadCommands.RateAsync(options),
        "hold" => await HoldCommand.RunAsync(options),
        "report" => ReportCommand.Run(options),
        _ => throw new ArgumentException($"unknown command '{args[0]}'"),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"LoadClient: {e.Message}");
    return 2;
}
