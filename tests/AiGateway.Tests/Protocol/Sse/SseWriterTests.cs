using System.Buffers;
using System.Text;
using AiGateway.Protocol.Sse;

namespace AiGateway.Tests.Protocol.Sse;

public class SseWriterTests
{
    [Theory]
    [InlineData("", "[DONE]", "data: [DONE]\n\n")]
    [InlineData("ping", "{}", "event: ping\ndata: {}\n\n")]
    [InlineData("", "a\r\nb\rc\nd", "data: a\ndata: b\ndata: c\ndata: d\n\n")]
    [InlineData("", "", "data: \n\n")]
    public void WriteEvent_Payload_ExactBytes(string eventType, string data, string expected)
    {
        var buffer = new ArrayBufferWriter<byte>();
        SseWriter.WriteEvent(buffer, Encoding.UTF8.GetBytes(eventType), Encoding.UTF8.GetBytes(data));
        Assert.Equal(expected, Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void WriteEvent_MultiLineData_RoundTripsThroughParser()
    {
        var buffer = new ArrayBufferWriter<byte>();
        SseWriter.WriteEvent(buffer, "e"u8, "one\ntwo\n\nfour"u8);
        var events = SseParserTests.ParseInChunks(buffer.WrittenSpan.ToArray(), [int.MaxValue]);
        Assert.Equal([new SseParserTests.ParsedEvent("e", "one\ntwo\n\nfour", "")], events);
    }
}
