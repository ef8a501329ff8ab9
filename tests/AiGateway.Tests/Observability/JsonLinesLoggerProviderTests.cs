using System.Buffers;
using System.Text;
using System.Text.Json;
using AiGateway.Observability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace AiGateway.Tests.Observability;

public partial class JsonLinesLoggerProviderTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 15, 4, 5, 678, TimeSpan.Zero));

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "{Method} {Route} {Status} in {DurationMs} ms key={KeyName} é+<")]
    private static partial void Sample(ILogger logger, string method, string route, int status, double durationMs, string? keyName);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "line {N}")]
    private static partial void Line(ILogger logger, int n);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Failed {Thing}")]
    private static partial void Failed(ILogger logger, Exception exception, string thing);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "{Value}")]
    private static partial void Value(ILogger logger, double value);

    [Fact]
    public void FormatTimestamp_EqualsTheCustomFormatAcrossSecondsAndYears()
    {
        var random = new Random(42);
        var start = new DateTime(2026, 12, 31, 23, 59, 58, 990, DateTimeKind.Utc);
        var times = new List<DateTime>();
        // Steps of 7 ms across a second, minute, day and year boundary; then back in time (another thread's older
        // timestamp); then random instants from year 1 to 9999.
        for (var i = 0; i < 600; i++) times.Add(start.AddMilliseconds(7 * i));
        times.Add(start);
        times.Add(DateTime.MinValue);
        times.Add(DateTime.MaxValue);
        for (var i = 0; i < 2_000; i++) times.Add(new DateTime(random.NextInt64(DateTime.MaxValue.Ticks), DateTimeKind.Utc));

        Span<byte> stamp = stackalloc byte[JsonLogFormatter.TimestampLength];
        foreach (var time in times)
        {
            JsonLogFormatter.FormatTimestamp(time, stamp);
            Assert.Equal(time.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture), Encoding.UTF8.GetString(stamp));
        }
    }

    [Fact]
    public void Write_LoggerMessage_ConsoleShapeWithoutTemplateOrRepeatedMessage()
    {
        var line = Format(logger => Sample(logger, "POST", "/v1/chat/completions", 200, 1.25, null));

        Assert.EndsWith("\n", line);
        Assert.Single(line.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal("2026-11-29T15:04:05.678Z", root.GetProperty("Timestamp").GetString());
        Assert.Equal(7, root.GetProperty("EventId").GetInt32());
        Assert.Equal("Information", root.GetProperty("LogLevel").GetString());
        Assert.Equal("Test.Category", root.GetProperty("Category").GetString());
        Assert.Equal("POST /v1/chat/completions 200 in 1.25 ms key=(null) é+<", root.GetProperty("Message").GetString());
        var state = root.GetProperty("State");
        Assert.Equal("POST", state.GetProperty("Method").GetString());
        Assert.Equal(200, state.GetProperty("Status").GetInt32());
        Assert.Equal(1.25, state.GetProperty("DurationMs").GetDouble());
        Assert.Equal(JsonValueKind.Null, state.GetProperty("KeyName").ValueKind);
        Assert.False(state.TryGetProperty("{OriginalFormat}", out _));
        Assert.False(state.TryGetProperty("Message", out _));
        Assert.False(root.TryGetProperty("Exception", out _));
        // Readable UTF-8, not \u-escaped.
        Assert.Contains("é+<", line);
    }

    [Fact]
    public void Write_Exception_WrittenAsText()
    {
        var line = Format(logger => Failed(logger, new InvalidOperationException("broken \"quote\""), "x"));

        using var json = JsonDocument.Parse(line);
        Assert.Equal("Error", json.RootElement.GetProperty("LogLevel").GetString());
        Assert.StartsWith("System.InvalidOperationException: broken \"quote\"", json.RootElement.GetProperty("Exception").GetString());
        Assert.Equal("x", json.RootElement.GetProperty("State").GetProperty("Thing").GetString());
    }

    [Fact]
    public void Write_NonFiniteDouble_WrittenAsString()
    {
        var line = Format(logger => Value(logger, double.NaN));

        using var json = JsonDocument.Parse(line);
        Assert.Equal("NaN", json.RootElement.GetProperty("State").GetProperty("Value").GetString());
    }

    [Fact]
    public async Task Log_WhileOutputBusy_LinesShareOneWriteInOrder()
    {
        var output = new GatedStream();
        var provider = new JsonLinesLoggerProvider(output, _time);
        var logger = provider.CreateLogger("Test");

        Line(logger, 0);
        await output.FirstWriteStarted.WaitAsync(TimeSpan.FromSeconds(10));
        for (var i = 1; i <= 100; i++) Line(logger, i);
        output.Release();
        provider.Dispose();

        var lines = output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(101, lines.Length);
        for (var i = 0; i <= 100; i++)
        {
            using var json = JsonDocument.Parse(lines[i]);
            Assert.Equal(i, json.RootElement.GetProperty("State").GetProperty("N").GetInt32());
        }
        // The first line alone, then the hundred queued behind it together.
        Assert.Equal(2, output.Writes);
    }

    [Fact]
    public async Task Log_QueueFull_DropsLinesAndReportsHowMany()
    {
        var output = new GatedStream();
        var provider = new JsonLinesLoggerProvider(output, _time, queueCapacity: 4);
        var logger = provider.CreateLogger("Test");

        Line(logger, 0);
        await output.FirstWriteStarted.WaitAsync(TimeSpan.FromSeconds(10));
        for (var i = 1; i <= 20; i++) Line(logger, i);
        Assert.Equal(16, provider.Dropped);
        output.Release();
        provider.Dispose();

        var lines = output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([0, 1, 2, 3, 4], lines.Where(l => l.GetProperty("Category").GetString() == "Test").Select(l => l.GetProperty("State").GetProperty("N").GetInt32()));
        var notice = Assert.Single(lines, l => l.GetProperty("EventId").GetInt32() == 801);
        Assert.Equal("Warning", notice.GetProperty("LogLevel").GetString());
        Assert.Equal(16, notice.GetProperty("State").GetProperty("Dropped").GetInt64());
    }

    [Fact]
    public async Task Log_WithoutDispose_WrittenByTheWriterOnItsOwn_AlsoAfterAQuietPeriod()
    {
        var output = new GatedStream();
        output.Release();
        var provider = new JsonLinesLoggerProvider(output, _time);
        var logger = provider.CreateLogger("Test");

        Line(logger, 1);
        await WaitForLinesAsync(output, 1);
        // Longer than the idle period: the writer has gone back to waiting with nothing queued.
        await Task.Delay(JsonLinesLoggerProvider.IdlePeriodMs * 3);
        Line(logger, 2);
        await WaitForLinesAsync(output, 2);

        provider.Dispose();
        Assert.Equal(2, output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Log_AfterDispose_IsNotWritten()
    {
        var output = new GatedStream();
        output.Release();
        var provider = new JsonLinesLoggerProvider(output, _time);
        var logger = provider.CreateLogger("Test");
        Line(logger, 1);

        provider.Dispose();
        Line(logger, 2);
        Thread.Sleep(JsonLinesLoggerProvider.IdlePeriodMs * 2);

        var line = Assert.Single(output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("\"N\":1", line, StringComparison.Ordinal);
    }

    private static async Task WaitForLinesAsync(GatedStream output, int lines)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (output.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length < lines)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{lines} line(s) not written within 10 s");
            await Task.Delay(10);
        }
    }

    [Fact]
    public void Dispose_OutputClosed_DoesNotThrow()
    {
        var output = new MemoryStream();
        var provider = new JsonLinesLoggerProvider(output, _time);
        output.Dispose();
        Line(provider.CreateLogger("Test"), 1);

        provider.Dispose();
    }

    private string Format(Action<ILogger> log)
    {
        var logger = new FormattingLogger(_time);
        log(logger);
        return logger.Text!;
    }

    private sealed class FormattingLogger(TimeProvider time) : ILogger
    {
        public string? Text { get; private set; }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var buffer = new ArrayBufferWriter<byte>();
            JsonLogFormatter.Write(buffer, time.GetUtcNow(), logLevel, "Test.Category", eventId, state, exception, formatter);
            Text = Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
    }

    /// <summary>Output whose first write blocks until released, so lines queue up behind it.</summary>
    private sealed class GatedStream : Stream
    {
        private readonly ManualResetEventSlim _gate = new(false);
        private readonly TaskCompletionSource _firstWrite = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly MemoryStream _data = new();

        public Task FirstWriteStarted => _firstWrite.Task;

        public int Writes { get; private set; }

        public string Text
        {
            get
            {
                lock (_data) return Encoding.UTF8.GetString(_data.ToArray());
            }
        }

        public void Release() => _gate.Set();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var copy = buffer.ToArray();
            _firstWrite.TrySetResult();
            _gate.Wait(TimeSpan.FromSeconds(10));
            lock (_data)
            {
                Writes++;
                _data.Write(copy);
            }
        }

        public override void Flush() { }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
