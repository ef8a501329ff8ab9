using System.Collections.Concurrent;
using AiGateway.Configuration;

namespace AiGateway.Resilience;

/// <summary>What the gateway knows about one deployment at run time; survives config reloads by name.</summary>
internal sealed class DeploymentStats(TimeProvider time)
{
    private int _inFlight;
    private long _ewmaTicks;

    public CircuitBreaker Breaker { get; } = new(time);

    /// <summary>Requests sent to the deployment and not yet finished.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Moving average of time to first byte; zero until measured, so a new deployment gets tried.</summary>
    public TimeSpan AverageFirstByte => TimeSpan.FromTicks(Interlocked.Read(ref _ewmaTicks));

    public void Enter() => Interlocked.Increment(ref _inFlight);

    public void Exit() => Interlocked.Decrement(ref _inFlight);

    public void RecordFirstByte(TimeSpan elapsed)
    {
        // EWMA with alpha 0.2: recent enough to follow a degrading provider, smooth enough to ignore one slow answer.
        long current, next;
        do
        {
            current = Interlocked.Read(ref _ewmaTicks);
            next = current == 0 ? elapsed.Ticks : (long)(current * 0.8 + elapsed.Ticks * 0.2);
        }
        while (Interlocked.CompareExchange(ref _ewmaTicks, next, current) != current);
    }
}

/// <summary>Run-time state of every deployment, keyed by its public name.</summary>
internal sealed class DeploymentHealth(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, DeploymentStats> _stats = new(StringComparer.Ordinal);

    public DeploymentStats For(Deployment deployment) => _stats.GetOrAdd(deployment.Name, static (_, t) => new DeploymentStats(t), time);

    public bool TryGet(string name, out DeploymentStats? stats) => _stats.TryGetValue(name, out stats);
}
