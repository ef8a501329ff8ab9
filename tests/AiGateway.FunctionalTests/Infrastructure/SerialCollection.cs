namespace AiGateway.FunctionalTests.Infrastructure;

/// <summary>Test classes that measure timing-sensitive behaviour and must not share the CPU with other classes.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial";
}
