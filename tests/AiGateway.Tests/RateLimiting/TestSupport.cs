using System.Diagnostics.Metrics;
using AiGateway.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AiGateway.Tests.RateLimiting;

internal sealed class TestMeterFactory : IMeterFactory
{
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
        lock (_meters)
        {
            _meters.Add(meter);
        }

        return meter;
    }

    public void Dispose()
    {
        lock (_meters)
        {
            _meters.ForEach(m => m.Dispose());
            _meters.Clear();
        }
    }
}

internal sealed class ListLogger<T> : ILogger<T>
{
    private readonly List<(LogLevel Level, EventId Id, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, EventId Id, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add((logLevel, eventId, formatter(state, exception)));
        }
    }
}

internal static class Limiters
{
    public static AdmissionLimiter Create(
        IRateLimitStore store,
        TimeProvider? timeProvider = null,
        RateLimitOptions? options = null,
        IMeterFactory? meterFactory = null,
        ILogger<AdmissionLimiter>? logger = null) =>
        new(
            store,
            new RateLimitingMetrics(meterFactory ?? new TestMeterFactory()),
            Options.Create(options ?? new RateLimitOptions()),
            timeProvider ?? TimeProvider.System,
            logger ?? NullLogger<AdmissionLimiter>.Instance);

    public static LimitRule Key(string id, long? rpm, long? tpm, TimeSpan? window = null) =>
        new(new LimitScope(LimitScopeKind.Key, id), rpm, tpm, window ?? LimitRule.OneMinute);

    public static LimitRule Team(string id, long? rpm, long? tpm, TimeSpan? window = null) =>
        new(new LimitScope(LimitScopeKind.Team, id), rpm, tpm, window ?? LimitRule.OneMinute);
}
