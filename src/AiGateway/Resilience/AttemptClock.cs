namespace AiGateway.Resilience;

/// <summary>
/// One attempt's cancellation: the client's abort, the request's total deadline, and the first-byte
/// deadline, which the relay disarms when the answer's first byte arrives (recording how long it took).
/// </summary>
internal sealed class AttemptClock : IDisposable
{
    private readonly CancellationTokenSource? _source;
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
        if (firstByteTimeout is { } timeout)
        {
            // Only a deadline needs a source of its own; without one the attempt shares the parent's token.
            _source = CancellationTokenSource.CreateLinkedTokenSource(parent);
            _source.CancelAfter(timeout);
        }
    }

    public CancellationToken Token => _source?.Token ?? _parent;

    /// <summary>The first-byte deadline passed (not the client, not the total deadline).</summary>
    public bool FirstByteTimedOut => _source is { IsCancellationRequested: true } && !_parent.IsCancellationRequested && Volatile.Read(ref _firstByte) == 0;

    public bool SawFirstByte => Volatile.Read(ref _firstByte) == 1;

    public void FirstByte()
    {
        if (Interlocked.Exchange(ref _firstByte, 1) == 1) return;
        if (_source is { IsCancellationRequested: false }) _source.CancelAfter(Timeout.InfiniteTimeSpan);
        _stats.RecordFirstByte(_time.GetElapsedTime(_started));
    }

    public void Dispose() => _source?.Dispose();
}
