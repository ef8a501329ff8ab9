using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using AiGateway.Protocol.Sse;

namespace AiGateway.Tests.Protocol.Sse;

public class SseParserTests
{
    private const string MixedStream =
        "\uFEFF: comment first\r\n" +
        "event: message_start\r\n" +
        "data: {\"a\":1}\r\n" +
        "\r\n" +
        "id: 7\n" +
        "data: line one\n" +
        "data:line two\n" +
        "data:  leading space kept\n" +
        "\n" +
        "event: ping\r" +
        "data\r" +
        "\r" +
        "retry: 1500\n" +
        ": keep-alive\n" +
        "data: é ✓ 😀\r\n" +
        "\r\n" +
        "event: dropped\n" +
        "id: x\0y\n" +
        "\n" +
        "data: last\n" +
        "\n" +
        "data: incomplete at end of stream\n";

    private static readonly ParsedEvent[] s_mixedExpected =
    [
        new("message_start", "{\"a\":1}", ""),
        new("message", "line one\nline two\n leading space kept", "7"),
        new("ping", "", "7"),
        new("message", "é ✓ 😀", "7"),
        new("message", "last", "7"),
    ];

    [Fact]
    public void TryReadEvent_WholeStream_FollowsWhatwgRules()
    {
        Assert.Equal(s_mixedExpected, ParseInChunks(Encoding.UTF8.GetBytes(MixedStream), [int.MaxValue]));
    }

    [Fact]
    public void TryReadEvent_SplitAtEveryByteBoundary_SameEvents()
    {
        var bytes = Encoding.UTF8.GetBytes(MixedStream);
        for (var split = 1; split < bytes.Length; split++)
        {
            Assert.Equal(s_mixedExpected, ParseInChunks(bytes, [split, int.MaxValue]));
        }
    }

    [Fact]
    public void TryReadEvent_OneByteAtATime_SameEvents()
    {
        var bytes = Encoding.UTF8.GetBytes(MixedStream);
        Assert.Equal(s_mixedExpected, ParseInChunks(bytes, Enumerable.Repeat(1, bytes.Length).ToArray()));
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public void TryReadEvent_AnyLineEnding_SameEvent(string eol)
    {
        var text = $"event: e{eol}data: a{eol}data: b{eol}{eol}";
        var events = ParseInChunks(Encoding.UTF8.GetBytes(text), [int.MaxValue]);
        Assert.Equal([new ParsedEvent("e", "a\nb", "")], events);
    }

    [Fact]
    public void TryReadEvent_CrAtChunkEndThenLf_NotAnExtraBlankLine()
    {
        // "data: a\r" | "\ndata: b\r\n\r\n": the LF after the split must not dispatch an event early.
        var events = ParseInChunks("data: a\r\ndata: b\r\n\r\n"u8.ToArray(), [8, int.MaxValue]);
        Assert.Equal([new ParsedEvent("message", "a\nb", "")], events);
    }

    [Fact]
    public void TryReadEvent_EventWithoutData_NotDispatchedAndTypeReset()
    {
        var events = ParseInChunks("event: a\n\ndata: x\n\n"u8.ToArray(), [int.MaxValue]);
        Assert.Equal([new ParsedEvent("message", "x", "")], events);
    }

    [Fact]
    public void TryReadEvent_UnknownFieldAndFieldWithoutValue_Ignored()
    {
        var events = ParseInChunks("foo: bar\nevent\ndata: x\n\n"u8.ToArray(), [int.MaxValue]);
        Assert.Equal([new ParsedEvent("message", "x", "")], events);
    }

    [Theory]
    [InlineData("retry: 3000\n", 3000)]
    [InlineData("retry: 12a\n", null)]
    [InlineData("retry: -1\n", null)]
    [InlineData("retry:\n", null)]
    [InlineData("retry: 99999999999\n", null)]
    public void TryReadEvent_RetryField_SetsReconnectionTimeOnlyWhenDigits(string line, int? expected)
    {
        using var parser = new SseParser();
        Assert.False(parser.TryReadEvent(Encoding.UTF8.GetBytes(line), out _, out _));
        Assert.Equal(expected, parser.ReconnectionTimeMilliseconds);
    }

    [Fact]
    public void TryReadEvent_MultiSegmentSequence_ConsumesAndSlices()
    {
        var sequence = Segments("data: he", "llo\n\nda", "ta: world\n", "\n");
        using var parser = new SseParser();

        Assert.True(parser.TryReadEvent(ref sequence, out var first));
        Assert.Equal("hello", Encoding.UTF8.GetString(first.Data.Span));
        Assert.True(parser.TryReadEvent(ref sequence, out var second));
        Assert.Equal("world", Encoding.UTF8.GetString(second.Data.Span));
        Assert.False(parser.TryReadEvent(ref sequence, out _));
        Assert.True(sequence.IsEmpty);
    }

    [Fact]
    public void TryReadEvent_LineOverLimit_Throws()
    {
        using var parser = new SseParser(maxEventSize: 64);
        var line = Encoding.UTF8.GetBytes("data: " + new string('x', 100));
        Assert.Throws<InvalidDataException>(() => parser.TryReadEvent(line, out _, out _));
    }

    [Fact]
    public void TryReadEvent_LargeEventAcrossManyReads_GrowsBuffers()
    {
        var payload = new string('x', 100_000);
        var events = ParseInChunks(Encoding.UTF8.GetBytes($"data: {payload}\ndata: {payload}\n\n"), Enumerable.Repeat(997, 300).ToArray());
        Assert.Equal([new ParsedEvent("message", payload + "\n" + payload, "")], events);
    }

    [Fact]
    public async Task ReadEventsAsync_StreamWithTinyReads_YieldsEachEvent()
    {
        using var stream = new TrickleStream(Encoding.UTF8.GetBytes(MixedStream), readSize: 3);
        var events = new List<ParsedEvent>();
        await foreach (var sseEvent in SseReader.ReadEventsAsync(stream))
        {
            events.Add(ParsedEvent.From(sseEvent));
        }

        Assert.Equal(s_mixedExpected, events);
    }

    [Fact]
    public async Task ReadEventsAsync_Pipe_YieldsEventBeforeStreamEnds()
    {
        var pipe = new Pipe();
        await using var events = SseReader.ReadEventsAsync(pipe.Reader).GetAsyncEnumerator();

        await pipe.Writer.WriteAsync("event: a\ndata: 1\n\nevent: b\nda"u8.ToArray());
        Assert.True(await events.MoveNextAsync());
        Assert.Equal(new ParsedEvent("a", "1", ""), ParsedEvent.From(events.Current));

        await pipe.Writer.WriteAsync("ta: 2\n\n"u8.ToArray());
        Assert.True(await events.MoveNextAsync());
        Assert.Equal(new ParsedEvent("b", "2", ""), ParsedEvent.From(events.Current));

        await pipe.Writer.CompleteAsync();
        Assert.False(await events.MoveNextAsync());
    }

    internal static List<ParsedEvent> ParseInChunks(byte[] bytes, int[] chunkSizes)
    {
        using var parser = new SseParser();
        var events = new List<ParsedEvent>();
        var offset = 0;
        foreach (var size in chunkSizes)
        {
            if (offset >= bytes.Length)
            {
                break;
            }

            var chunk = bytes.AsSpan(offset, Math.Min(size, bytes.Length - offset));
            offset += chunk.Length;
            while (parser.TryReadEvent(chunk, out var consumed, out var sseEvent))
            {
                events.Add(ParsedEvent.From(sseEvent));
                chunk = chunk[consumed..];
            }
        }

        return events;
    }

    private static ReadOnlySequence<byte> Segments(params string[] parts)
    {
        var first = new Segment(Encoding.UTF8.GetBytes(parts[0]), 0);
        var last = first;
        foreach (var part in parts.Skip(1))
        {
            last = last.Append(Encoding.UTF8.GetBytes(part));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    internal sealed record ParsedEvent(string EventType, string Data, string LastEventId)
    {
        public static ParsedEvent From(SseEvent sseEvent) => new(
            Encoding.UTF8.GetString(sseEvent.EventType.Span),
            Encoding.UTF8.GetString(sseEvent.Data.Span),
            Encoding.UTF8.GetString(sseEvent.LastEventId.Span));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    private sealed class TrickleStream(byte[] data, int readSize) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, readSize));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, readSize)]);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, readSize)], cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            base.ReadAsync(buffer, offset, Math.Min(count, readSize), cancellationToken);
    }
}
