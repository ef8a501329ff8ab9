using System.Text;
using AiGateway.Caching;
using AiGateway.Protocol;
using Microsoft.AspNetCore.Http;

namespace AiGateway.Tests.Caching;

public sealed class CacheEntryBuilderTests
{
    private static readonly TokenUsage Usage = new(9, 3, 0, UsageSource.Reported);

    private static (CacheEntryBuilder Builder, HttpResponse Response) Create(string contentType, AiOperation operation = AiOperation.ChatCompletions, int maxBytes = 1 << 20, int status = 200)
    {
        var context = new DefaultHttpContext();
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        return (new CacheEntryBuilder(context.Response, operation, maxBytes), context.Response);
    }

    private static void Feed(CacheEntryBuilder builder, string text, int split = 7)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var i = 0; i < bytes.Length; i += split) builder.Append(bytes.AsSpan(i, Math.Min(split, bytes.Length - i)));
    }

    private static string Sse(params string[] data) => string.Concat(data.Select(d => "data: " + d + "\n\n"));

    [Fact]
    public void Build_ChatStreamInPieces_AssemblesTheCompletion()
    {
        var (builder, _) = Create("text/event-stream");
        Feed(builder, Sse(
            """{"id":"c","object":"chat.completion.chunk","created":5,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null},{"index":1,"delta":{"role":"assistant","content":"B"},"finish_reason":null}]}""",
            """{"id":"c","object":"chat.completion.chunk","created":5,"model":"m","choices":[{"index":0,"delta":{"content":"A é"},"finish_reason":"length"}]}""",
            """{"id":"c","object":"chat.completion.chunk","created":5,"model":"m","choices":[{"index":1,"delta":{},"finish_reason":"stop"}]}""",
            "[DONE]"));

        var entry = builder.Build(Usage, 100);

        Assert.NotNull(entry);
        Assert.Equal(
            """{"id":"c","object":"chat.completion","created":5,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"A é","refusal":null},"logprobs":null,"finish_reason":"length"},{"index":1,"message":{"role":"assistant","content":"B","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}""",
            Encoding.UTF8.GetString(entry.Body));
        Assert.Equal((9, 3, 100L), (entry.PromptTokens, entry.CompletionTokens, entry.StoredAtUnixSeconds));
    }

    [Fact]
    public void Build_CompletionsStream_AssemblesTextCompletion()
    {
        var (builder, _) = Create("text/event-stream", AiOperation.Completions);
        Feed(builder, Sse(
            """{"id":"x","object":"text_completion","created":1,"model":"m","choices":[{"text":"one ","index":0,"logprobs":null,"finish_reason":null}]}""",
            """{"id":"x","object":"text_completion","created":1,"model":"m","choices":[{"text":"two","index":0,"logprobs":null,"finish_reason":"stop"}]}""",
            """{"id":"x","object":"text_completion","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}""",
            "[DONE]"), split: 1000);

        var entry = builder.Build(Usage, 0)!;

        Assert.Equal(
            """{"id":"x","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"one two","logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}""",
            Encoding.UTF8.GetString(entry.Body));
    }

    public static TheoryData<string, string> RejectedStreams => new()
    {
        { Sse("""{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]}"""), "incomplete" },
        { Sse("""{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}""", "[DONE]"), "incomplete" },
        { Sse("""{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t","function":{"name":"f","arguments":""}}]},"finish_reason":null}]}"""), "tool_calls" },
        { Sse("""{"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":null}]}""", """{"error":{"message":"broke","type":"server_error"}}"""), "error" },
        { Sse("""{"choices":[{"index":0,"delta":{"content":"0123456789"},"finish_reason":"stop"}]}""", "[DONE]"), "too_large" },
    };

    [Theory]
    [MemberData(nameof(RejectedStreams))]
    public void Build_UnfitStream_Rejected(string stream, string reason)
    {
        var (builder, _) = Create("text/event-stream", maxBytes: reason == "too_large" ? 5 : 1 << 20);
        Feed(builder, stream);

        Assert.Null(builder.Build(Usage, 0));
        Assert.Equal(reason, builder.Rejection);
    }

    [Fact]
    public void Build_Json_KeptByteForByte()
    {
        const string json = """{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}""";
        var (builder, _) = Create("application/json; charset=utf-8");
        Feed(builder, json, split: 5);

        Assert.Equal(json, Encoding.UTF8.GetString(builder.Build(Usage, 0)!.Body));
    }

    [Theory]
    [InlineData("""{"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}""", "tool_calls")]
    [InlineData("""{"choices":[{"index":0,"message":{"role":"assistant","content":"x"},"finish_reason":null}]}""", "incomplete")]
    [InlineData("""{"error":{"message":"no"}}""", "error")]
    [InlineData("""{"choices":[]}""", "format")]
    [InlineData("""{"choices":[{"index":0""", "format")]
    public void Build_UnfitJson_Rejected(string json, string reason)
    {
        var (builder, _) = Create("application/json");
        Feed(builder, json);

        Assert.Null(builder.Build(Usage, 0));
        Assert.Equal(reason, builder.Rejection);
    }

    [Fact]
    public void Build_CountedUsage_MeansIncomplete()
    {
        var (builder, _) = Create("application/json");
        Feed(builder, """{"choices":[{"index":0,"message":{"content":"x"},"finish_reason":"stop"}]}""");

        Assert.Null(builder.Build(Usage with { Source = UsageSource.Counted }, 0));
        Assert.Equal("incomplete", builder.Rejection);
    }

    [Fact]
    public void Build_Non200_Rejected()
    {
        var (builder, _) = Create("application/json", status: 429);
        Feed(builder, """{"error":{"message":"slow down"}}""");

        Assert.Null(builder.Build(Usage, 0));
        Assert.Equal("status", builder.Rejection);
    }
}
