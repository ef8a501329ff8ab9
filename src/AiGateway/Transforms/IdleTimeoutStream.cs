namespace AiGateway.Transforms;

/// <summary>
/// A read-only wrapper that cancels <paramref name="timeout"/> when a single read waits longer than
/// <paramref name="idle"/>: a stalled upstream ends the relay instead of holding it open forever.
/// </summary>
internal sealed class IdleTimeoutStream(Stream inner, CancellationTokenSource timeout, TimeSpan idle, Action? onFirstByte = null) : Stream
{
    /// <summary>Bytes read so far; zero means nothing can have reached the client yet.</summary>
    public long BytesRead { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var pending = inner.ReadAsync(buffer, cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            // Data already buffered (a whole JSON answer usually is): nothing to wait for, so no timer is armed.
            return ValueTask.FromResult(Count(pending.Result));
        }
        return WaitAsync(pending);
    }

    private async ValueTask<int> WaitAsync(ValueTask<int> pending)
    {
        // Armed once the read is pending; a read waiting on the token is cancelled when it fires.
        timeout.CancelAfter(idle);
        try
        {
            return Count(await pending);
        }
        finally
        {
            timeout.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    private int Count(int read)
    {
        if (read > 0 && BytesRead == 0) onFirstByte?.Invoke();
        BytesRead += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Synchronous reads would block a thread.");
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
