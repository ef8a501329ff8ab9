using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace AiGateway.Caching;

/// <summary>
/// Receives a copy of every byte written to the client. Implemented by the collector that assembles a
/// cache entry; it must not block or fail, since it runs inside the client's write.
/// </summary>
internal interface IResponseTap
{
    void Append(ReadOnlySpan<byte> data);
}

/// <summary>
/// Replaces the response body feature for one request so whatever writes the answer (the provider
/// relay, the Anthropic translator, the mock) is copied to an <see cref="IResponseTap"/> as it goes
/// out. Nothing is held back: each write reaches the client's pipe first-hand and flushes as before.
/// </summary>
internal sealed class ResponseCapture(IHttpResponseBodyFeature inner, IResponseTap tap) : IHttpResponseBodyFeature
{
    private TapStream? _stream;
    private TapPipeWriter? _writer;

    public Stream Stream => _stream ??= new TapStream(inner.Stream, tap);

    public PipeWriter Writer => _writer ??= new TapPipeWriter(inner.Writer, tap);

    public void DisableBuffering() => inner.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The gateway never answers an AI request with a file.");

    public Task CompleteAsync() => inner.CompleteAsync();

    /// <summary>Copies each advanced span of the client's own buffer; the bytes are written once, in place.</summary>
    private sealed class TapPipeWriter(PipeWriter inner, IResponseTap tap) : PipeWriter
    {
        private Memory<byte> _last;

        public override Memory<byte> GetMemory(int sizeHint = 0) => _last = inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0)
        {
            _last = inner.GetMemory(sizeHint);
            return _last.Span;
        }

        public override void Advance(int bytes)
        {
            tap.Append(_last.Span[..bytes]);
            _last = _last[bytes..];
            inner.Advance(bytes);
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            tap.Append(source.Span);
            return inner.WriteAsync(source, cancellationToken);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;
    }

    private sealed class TapStream(Stream inner, IResponseTap tap) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            tap.Append(buffer);
            inner.Write(buffer);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            tap.Append(buffer.Span);
            return inner.WriteAsync(buffer, cancellationToken);
        }
    }
}
