namespace AiGateway.Resilience;

/// <summary>
/// One attempt's cancellation: the client's abort, the request's total deadline, and the first-byte
/// deadline, which the relay disarms when the answer's first byte arrives (recording how long it took).
/// </summary>
internal sealed class AttemptClock : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly CancellationToken _parent;
    private readonly TimeProvider _time;
    private readonly DeploymentStats _stats;
    private readonly long _started;
    private int _firstByte;

    public AttemptClock(CancellationToken parent, TimeSpan? firstByteTimeout, TimeProvider time, DeploymentStats stats)
    {
        _parent = parent;
        _time = time;
        _stats = stats;
        _started = time.GetTimestamp();
        _source = CancellationTokenSource.CreateLinkedTokenSource(parent);
        if (firstByteTimeout is { } timeout)
        {
            _source.CancelAfter(timeout);
        }
    }

    public CancellationToken Token => _source.Token;

    /// <summary>The first-byte deadline passed (not the client, not the total deadline).</summary>
    public bool FirstByteTimedOut => _source.IsCancellationRequested && !_parent.IsCancellationRequested && Volatile.Read(ref _firstByte) == 0;

    public bool SawFirstByte => Volatile.Read(ref _firstByte) == 1;

    public void FirstByte()
    {
        if (Interlocked.Exchange(ref _firstByte, 1) == 1) return;
        if (!_source.IsCancellationRequested) _source.CancelAfter(Timeout.InfiniteTimeSpan);
        _stats.RecordFirstByte(_time.GetElapsedTime(_started));
    }

    public void Dispose() => _source.Dispose();
}
