using System.Buffers;
using System.Text.Json;
using System.Collections.Concurrent;

namespace AiGateway.Observability;

/// <summary>
/// The gateway's JSON console logger: each entry is formatted to UTF-8 on the logging thread
/// (<see cref="JsonLogFormatter"/>) and queued; one writer thread drains the queue every few milliseconds and
/// writes everything queued with one write to standard output. Under load many lines share one write, where
/// .NET's console logger formats through a string and a <see cref="TextWriter"/> and makes a flushed write per
/// line, a cost of the same order as forwarding the request itself.
/// The writer is a thread of its own that wakes on a short period rather than being woken per batch: waking a
/// waiting reader queued two thread-pool work items per batch, and workers woken for them spun looking for more
/// work; a line waits at most <see cref="BusyPeriodMs"/> (under load) or <see cref="IdlePeriodMs"/> (after a
/// quiet period) before it is written.
/// When the queue is full (the output cannot keep up) new lines are dropped, never the request, and the
/// number dropped is reported in a line of its own once the writer catches up.
/// </summary>
[ProviderAlias("Console")]
internal sealed class JsonLinesLoggerProvider : ILoggerProvider
{
    /// <summary>Lines held while the output is slow; beyond this they are counted and dropped.</summary>
    public const int DefaultQueueCapacity = 16_384;

    /// <summary>The writer's period while lines keep coming.</summary>
    public const int BusyPeriodMs = 10;

    /// <summary>The writer's period after a period that had nothing to write.</summary>
    public const int IdlePeriodMs = 50;

    private const int BatchBytes = 64 * 1024;

    private readonly Stream _output;
    private readonly TimeProvider _time;
    private readonly int _capacity;
    private readonly ConcurrentQueue<Line> _queue = new();
    private readonly Thread _writer;
    private int _queued;
    private volatile bool _stopping;
    private long _dropped;

    public JsonLinesLoggerProvider(Stream output, TimeProvider time, int queueCapacity = DefaultQueueCapacity)
    {
        _output = output;
        _time = time;
        _capacity = queueCapacity;
        _writer = new Thread(Pump) { IsBackground = true, Name = "AiGateway log writer" };
        _writer.Start();
    }

    /// <summary>Lines dropped because the queue was full, since start.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public ILogger CreateLogger(string categoryName) => new JsonLinesLogger(this, categoryName);

    /// <summary>Writes what is queued and stops the writer (at most a few seconds).</summary>
    public void Dispose()
    {
        _stopping = true;
        _writer.Join(TimeSpan.FromSeconds(5));
    }

    private void Enqueue<TState>(JsonEncodedText category, LogLevel level, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        // After Dispose nothing is written any more.
        if (_stopping) return;
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        JsonLogFormatter.Write(buffer, _time.GetUtcNow(), level, category, eventId, state, exception, formatter);
        if (Interlocked.Increment(ref _queued) > _capacity)
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Increment(ref _dropped);
            return;
        }
        var bytes = ArrayPool<byte>.Shared.Rent(buffer.WrittenCount);
        buffer.WrittenSpan.CopyTo(bytes);
        _queue.Enqueue(new Line(bytes, buffer.WrittenCount));
    }

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    private void Pump()
    {
        var batch = new byte[BatchBytes];
        long reported = 0;
        try
        {
            while (true)
            {
                var stopping = _stopping;
                var wrote = Drain(batch, ref reported);
                if (stopping) return;
                // A plain sleep: waiting on an event with a timeout (so Dispose could cut it short) measured as a
                // condition variable, a mutex and a yield per period; Dispose waits out at most one period instead.
                Thread.Sleep(wrote ? BusyPeriodMs : IdlePeriodMs);
            }
        }
        catch (Exception)
        {
            // Standard output is gone (closed pipe, disposed) or cannot be written: nothing left to log to. The writer
            // is a thread of its own, so whatever happened must not end the process; lines are no longer formatted.
            _stopping = true;
        }
    }

    /// <summary>Writes every queued line, in order, batched; returns whether there was anything.</summary>
    private bool Drain(byte[] batch, ref long reported)
    {
        var used = 0;
        var any = false;
        while (_queue.TryDequeue(out var line))
        {
            any = true;
            Interlocked.Decrement(ref _queued);
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
            any = true;
        }
        if (any) _output.Flush();
        return any;
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
