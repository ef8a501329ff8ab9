using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;

namespace AiGateway.Observability;

/// <summary>
/// The gateway's JSON console logger: each entry is formatted to UTF-8 on the logging thread
/// (<see cref="JsonLogFormatter"/>) and queued; one writer drains the queue and writes everything queued
/// with one write to standard output. Under load many lines share one write, where .NET's console logger
/// formats through a string and a <see cref="TextWriter"/> and makes a flushed write per line, a cost
/// of the same order as forwarding the request itself.
/// When the queue is full (the output cannot keep up) new lines are dropped, never the request, and the
/// number dropped is reported in a line of its own once the writer catches up.
/// </summary>
[ProviderAlias("Console")]
internal sealed class JsonLinesLoggerProvider : ILoggerProvider
{
    /// <summary>Lines held while the output is slow; beyond this they are counted and dropped.</summary>
    public const int DefaultQueueCapacity = 16_384;

    private const int BatchBytes = 64 * 1024;

    private readonly Stream _output;
    private readonly TimeProvider _time;
    private readonly Channel<Line> _queue;
    private readonly Task _pump;
    private long _dropped;

    public JsonLinesLoggerProvider(Stream output, TimeProvider time, int queueCapacity = DefaultQueueCapacity)
    {
        _output = output;
        _time = time;
        _queue = Channel.CreateBounded<Line>(
            new BoundedChannelOptions(queueCapacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            dropped =>
            {
                ArrayPool<byte>.Shared.Return(dropped.Bytes);
                Interlocked.Increment(ref _dropped);
            });
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Lines dropped because the queue was full, since start.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public ILogger CreateLogger(string categoryName) => new JsonLinesLogger(this, categoryName);

    /// <summary>Writes what is queued and stops the writer (at most a few seconds).</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _pump.Wait(TimeSpan.FromSeconds(5));
    }

    private void Enqueue<TState>(JsonEncodedText category, LogLevel level, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        JsonLogFormatter.Write(buffer, _time.GetUtcNow(), level, category, eventId, state, exception, formatter);
        var bytes = ArrayPool<byte>.Shared.Rent(buffer.WrittenCount);
        buffer.WrittenSpan.CopyTo(bytes);
        if (!_queue.Writer.TryWrite(new Line(bytes, buffer.WrittenCount)))
        {
            // Only after Dispose: the bounded queue itself drops through its callback.
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    private async Task PumpAsync()
    {
        var batch = new byte[BatchBytes];
        var reader = _queue.Reader;
        long reported = 0;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                // Go to the back of the thread pool's queue once: the requests queued ahead log their lines
                // meanwhile, and they share this write. No timer, so nothing extra to wake.
                await Task.Yield();
                var used = 0;
                while (reader.TryRead(out var line))
                {
                    if (used + line.Length > batch.Length)
                    {
                        Write(batch, used);
                        used = 0;
                    }
                    if (line.Length > batch.Length)
                    {
                        Write(line.Bytes, line.Length);
                    }
                    else
                    {
                        line.Bytes.AsSpan(0, line.Length).CopyTo(batch.AsSpan(used));
                        used += line.Length;
                    }
                    ArrayPool<byte>.Shared.Return(line.Bytes);
                }
                if (used > 0) Write(batch, used);

                var dropped = Dropped;
                if (dropped != reported)
                {
                    WriteDroppedNotice(dropped - reported);
                    reported = dropped;
                }
                // No timed pause to gather bigger batches: measured, waking a timer cost more than the writes it saved.
                _output.Flush();
            }
        }
        catch (IOException)
        {
            // Standard output is gone (closed pipe): nothing left to log to.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void Write(byte[] bytes, int length) => _output.Write(bytes, 0, length);

    private void WriteDroppedNotice(long count)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        JsonLogFormatter.Write(
            buffer,
            _time.GetUtcNow(),
            LogLevel.Warning,
            typeof(JsonLinesLoggerProvider).FullName!,
            new EventId(801, "LogLinesDropped"),
            new KeyValuePair<string, object?>[] { new("Dropped", count) },
            null,
            static (state, _) => $"{state[0].Value} log lines dropped: standard output could not keep up.");
        _output.Write(buffer.WrittenSpan);
    }

    private readonly record struct Line(byte[] Bytes, int Length);

    private sealed class JsonLinesLogger(JsonLinesLoggerProvider owner, string category) : ILogger
    {
        private readonly JsonEncodedText _category = JsonLogFormatter.EncodeCategory(category);

        // Scopes are not written, as with the JSON console formatter's default.
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        // Levels are filtered by the logger factory (Logging:LogLevel, Logging:Console:LogLevel).
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.None) return;
            owner.Enqueue(_category, logLevel, eventId, state, exception, formatter);
        }
    }
}
