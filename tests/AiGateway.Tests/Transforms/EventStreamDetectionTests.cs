using System.Net.Http.Headers;
using AiGateway.Transforms;

namespace AiGateway.Tests.Transforms;

public class EventStreamDetectionTests
{
    [Theory]
    [InlineData("text/event-stream", true)]
    [InlineData("text/event-stream; charset=utf-8", true)]
    [InlineData("Text/Event-Stream;charset=utf-8", true)]
    [InlineData("  text/event-stream  ; charset=utf-8", true)]
    [InlineData("application/json", false)]
    [InlineData("application/json; charset=utf-8", false)]
    [InlineData("text/event-streaming", false)]
    [InlineData("text/plain; note=text/event-stream", false)]
    [InlineData("", false)]
    public void IsEventStream_ReadsTheRawMediaType(string contentType, bool expected)
    {
        using var content = new ByteArrayContent([]);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);

        Assert.Equal(expected, ResponseRelay.IsEventStream(content));
    }

    [Fact]
    public void IsEventStream_NoContentType_IsFalse()
    {
        using var content = new ByteArrayContent([]);

        Assert.False(ResponseRelay.IsEventStream(content));
    }

    [Fact]
    public void IsEventStream_ContentTypeAlreadyParsed_StillRead()
    {
        using var content = new ByteArrayContent([]);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/event-stream") { CharSet = "utf-8" };

        Assert.True(ResponseRelay.IsEventStream(content));
    }
}
