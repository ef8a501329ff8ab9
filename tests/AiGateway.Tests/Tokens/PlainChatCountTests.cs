using System.Text;
using System.Text.Json;
using AiGateway.Tokens;

namespace AiGateway.Tests.Tokens;

/// <summary>
/// The reader pass for plain chat bodies (<see cref="PromptTokenCounter.TryCountPlainChat"/>) must give exactly what
/// the document path gives, and must refuse every shape it does not count.
/// </summary>
public class PlainChatCountTests
{
    public static TheoryData<string> PlainBodies() => new()
    {
        """{"model":"m","messages":[{"role":"user","content":"hello"}]}""",
        """{"model":"m","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Write one short sentence about the sea."}],"max_tokens":128}""",
        """{"model":"gpt-4","messages":[{"role":"system","content":"You are a helpful, pattern-following assistant."},{"role":"system","name":"example_user","content":"New synergies will help drive top-line growth."},{"role":"system","name":"example_assistant","content":"Things working well together will increase revenue."},{"role":"user","content":"This late pivot means we don't have time to boil the ocean."}]}""",
        """{"messages":[{"role":"function","name":"get_weather","content":"{\"temp\": 22}"}],"model":"m"}""",
        """{"model":"m","messages":[{"role":"assistant","content":null},{"role":"user","content":""}]}""",
        """{"model":"m","messages":[{"role":"user","content":"caf\u00e9 \ud83d\ude00 line\nbreak \"quoted\" \\ tab\t","name":"x\u0041"}]}""",
        """{"model":"m","messages":[{"role":"user","content":"Grüße, 世界 😀"}]}""",
        """{"model":"m","messages":[{"role":"user","content":"one","content":"two"}]}""",
        """{"model":"m","messages":[{"role":"user","content":"hi","name":null,"weight":1,"flags":[1,2,{"a":"b"}],"meta":{"x":"y"},"ok":true,"tool_call_id":"call_1"}]}""",
        """{"model":"m","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":50,"max_tokens":10,"n":3}""",
        """{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":10,"max_tokens":"x","n":0}""",
        """{"model":"m","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":"x","max_tokens":99999999999,"n":2,"n":-1}""",
        """{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":1.5,"n":2.5,"temperature":0.2,"stream":true,"stream_options":{"include_usage":true},"stop":["\n"]}""",
        // Members whose values are containers are stepped over whole: names inside them are not the request's.
        """{"model":"m","n":{"messages":[{"role":"user","content":"nested, not counted"}]},"messages":[{"role":"user","content":"the real one"}]}""",
        """{"model":"m","messages":[{"role":"user","content":"hi"}],"n":{"n":128}}""",
        """{"model":"m","messages":[{"role":"user","content":"hi"}],"n":{"max_completion_tokens":99999999}}""",
        """{"model":"m","messages":[{"role":"user","content":"hi"}],"n":[],"max_tokens":{"n":5},"max_completion_tokens":[1,{"max_tokens":2}]}""",
        """{"model":"m","messages":[]}""",
        """{"model":"m","messages":[{}]}""",
        """{"model":"m","messages":[{"content":"no role"},{"role":7,"content":"role not a string"}]}""",
    };

    [Theory]
    [MemberData(nameof(PlainBodies))]
    public void PlainBody_CountsAndReadsExactlyLikeTheDocumentPath(string body)
    {
        foreach (var encoding in TokenEncodings.Supported)
        {
            var counter = SharedTokenizers.Get(encoding);
            using var document = JsonDocument.Parse(body);
            var expected = PromptTokenCounter.Count(counter, PromptKind.ChatCompletions, document.RootElement);

            Assert.True(PromptTokenCounter.TryCountPlainChat(counter, Encoding.UTF8.GetBytes(body), out var tokens, out var requested, out var choices));

            Assert.True(expected.IsValid);
            Assert.Equal(expected.Tokens, tokens);
            Assert.Equal(ContextWindowGuard.ReadRequestedMaxTokens(document.RootElement), requested);
            Assert.Equal(ContextWindowGuard.ReadChoiceCount(document.RootElement), choices);
        }
    }

    [Fact]
    public void PlainBody_CountsTheKnownCookbookFigure()
    {
        // The cookbook example (the API reported 129 prompt tokens with cl100k_base).
        var body = PromptTokenCounterTests.CookbookMessages;

        Assert.True(PromptTokenCounter.TryCountPlainChat(SharedTokenizers.Get("cl100k_base"), Encoding.UTF8.GetBytes(body), out var tokens, out _, out _));
        Assert.Equal(129, tokens);
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":null}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"functions":[{"name":"f"}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":"none"}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"function_call":"auto"}""")]
    [InlineData("""{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"assistant","content":null,"function_call":{"name":"f","arguments":"{}"}}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":5}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":{"text":"hi"}}]}""")]
    [InlineData("""{"model":"m","messages":["hi"]}""")]
    [InlineData("""{"model":"m","messages":{"role":"user"}}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"a"}],"messages":[{"role":"user","content":"b"}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","role":"function","content":"a"}]}""")]
    [InlineData("""{"model":"m"}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"n":[],"messages":[{"role":"user","content":"a second, longer array"}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"n":{},"messages":[5]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}],"n":{},"tools":[{"type":"function","function":{"name":"f"}}]}""")]
    [InlineData("""[1]""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"hi"}""")]
    public void OtherShapes_AreLeftToTheDocumentPath(string body) =>
        Assert.False(PromptTokenCounter.TryCountPlainChat(SharedTokenizers.Get("o200k_base"), Encoding.UTF8.GetBytes(body), out _, out _, out _));

    public static TheoryData<string> GoldenChatRequests()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures"), "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var text = File.ReadAllText(file);
            try
            {
                using var document = JsonDocument.Parse(text);
                if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("messages", out _))
                {
                    data.Add(Path.GetRelativePath(AppContext.BaseDirectory, file));
                }
            }
            catch (JsonException)
            {
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(GoldenChatRequests))]
    public void FixtureBodies_WhenPlain_CountLikeTheDocumentPath(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, file));
        var counter = SharedTokenizers.Get("o200k_base");
        using var document = JsonDocument.Parse(bytes);
        var expected = PromptTokenCounter.Count(counter, PromptKind.ChatCompletions, document.RootElement);

        if (PromptTokenCounter.TryCountPlainChat(counter, bytes, out var tokens, out var requested, out var choices))
        {
            Assert.True(expected.IsValid);
            Assert.Equal(expected.Tokens, tokens);
            Assert.Equal(ContextWindowGuard.ReadRequestedMaxTokens(document.RootElement), requested);
            Assert.Equal(ContextWindowGuard.ReadChoiceCount(document.RootElement), choices);
        }
    }
}
