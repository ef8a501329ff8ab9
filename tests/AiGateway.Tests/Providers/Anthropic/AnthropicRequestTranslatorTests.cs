using System.Buffers;
using System.Text;
using AiGateway.Providers.Anthropic;

namespace AiGateway.Tests.Providers.Anthropic;

public class AnthropicRequestTranslatorTests
{
    private const string User = """{"role":"user","content":"Hi"}""";

    [Theory]
    [InlineData("""{"messages":[USER],"n":2}""", "n", "unsupported_parameter")]
    [InlineData("""{"messages":[USER],"logprobs":true}""", "logprobs", "unsupported_parameter")]
    [InlineData("""{"messages":[USER],"top_logprobs":3}""", "top_logprobs", "unsupported_parameter")]
    [InlineData("""{"messages":[USER],"response_format":{"type":"json_object"}}""", "response_format", "unsupported_parameter")]
    [InlineData("""{"messages":[USER],"audio":{"voice":"alloy","format":"mp3"}}""", "audio", "unsupported_parameter")]
    [InlineData("""{"messages":[USER],"modalities":["text","audio"]}""", "modalities", "unsupported_parameter")]
    [InlineData("""{"messages":[USER],"functions":[{"name":"f"}]}""", "functions", "unsupported_parameter")]
    [InlineData("""{"messages":[USER],"function_call":"auto"}""", "function_call", "unsupported_parameter")]
    [InlineData("""{"messages":[USER],"web_search_options":{}}""", "web_search_options", "unsupported_parameter")]
    [InlineData("""{"messages":[USER],"temperature":1.5}""", "temperature", "invalid_value")]
    [InlineData("""{"messages":[USER],"temperature":"hot"}""", "temperature", "invalid_type")]
    [InlineData("""{"messages":[USER],"max_tokens":0}""", "max_tokens", "invalid_type")]
    [InlineData("""{"messages":[USER],"max_completion_tokens":"many"}""", "max_completion_tokens", "invalid_type")]
    [InlineData("""{"messages":[USER],"stop":[1]}""", "stop", "invalid_type")]
    [InlineData("""{"messages":[USER],"stream":"yes"}""", "stream", "invalid_type")]
    [InlineData("""{"messages":[USER],"stream_options":{"include_usage":1}}""", "stream_options.include_usage", "invalid_type")]
    [InlineData("""{"messages":[USER],"tools":[{"type":"code_interpreter"}]}""", "tools[0].type", "unsupported_parameter")]
    [InlineData("""{"messages":[USER],"tool_choice":"sometimes"}""", "tool_choice", "invalid_value")]
    [InlineData("""{"model":"x"}""", "messages", "missing_required_parameter")]
    [InlineData("""{"messages":[]}""", "messages", "invalid_type")]
    [InlineData("""{"messages":{"role":"user"}}""", "messages", "invalid_type")]
    [InlineData("""{"messages":[{"role":"system","content":"only system"}]}""", "messages", "invalid_value")]
    [InlineData("""{"messages":[{"role":"robot","content":"Hi"}]}""", "messages[0].role", "invalid_value")]
    [InlineData("""{"messages":[{"role":"function","name":"f","content":"Hi"}]}""", "messages[0].role", "unsupported_parameter")]
    [InlineData("""{"messages":[{"role":"user","content":""}]}""", "messages[0].content", "invalid_value")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}""", "messages[0].content[0].type", "unsupported_parameter")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/tiff;base64,AAAA"}}]}]}""", "messages[0].content[0].image_url.url", "unsupported_parameter")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,rawbytes"}}]}]}""", "messages[0].content[0].image_url.url", "invalid_value")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}""", "messages[0].content[0].image_url.url", "invalid_value")]
    [InlineData("""{"messages":[USER,{"role":"tool","content":"42"}]}""", "messages[1].tool_call_id", "missing_required_parameter")]
    [InlineData("""{"messages":[{"role":"system","content":[{"type":"image_url"}]},USER]}""", "messages[0].content[0].type", "unsupported_parameter")]
    public void TryTranslate_UnsupportedOrInvalid_Returns400NamingParam(string body, string param, string code)
    {
        var error = Translate(body.Replace("USER", User, StringComparison.Ordinal));

        Assert.NotNull(error);
        Assert.Equal(400, error.StatusCode);
        Assert.Equal(param, error.Param);
        Assert.Equal(code, error.Code);
        Assert.Contains(param, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("")]
    public void TryTranslate_NotAJsonObject_Returns400(string body)
    {
        var error = Translate(body);

        Assert.NotNull(error);
        Assert.Equal(400, error.StatusCode);
    }

    [Theory]
    [InlineData("""{"n":1,"logprobs":false,"response_format":{"type":"text"},"modalities":["text"],"frequency_penalty":1,"presence_penalty":1,"seed":7,"logit_bias":{"1":1},"store":true,"metadata":{"a":"b"},"service_tier":"auto","prediction":{"type":"content","content":"x"},"reasoning_effort":"low","top_logprobs":null,"some_future_param":{}}""")]
    public void TryTranslate_DroppedParameters_AreAcceptedAndNotForwarded(string extra)
    {
        var body = extra.Insert(1, $"\"messages\":[{User}],");
        var buffer = new ArrayBufferWriter<byte>();

        Assert.True(AnthropicRequestTranslator.TryTranslate(Encoding.UTF8.GetBytes(body), "claude-x", 100, buffer, out _, out var error), error?.Message);
        Assert.Equal(
            """{"model":"claude-x","max_tokens":100,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}""",
            Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void TryTranslate_MaxCompletionTokens_WinsOverMaxTokens()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var body = $$"""{"messages":[{{User}}],"max_tokens":10,"max_completion_tokens":20,"stream":true}""";

        Assert.True(AnthropicRequestTranslator.TryTranslate(Encoding.UTF8.GetBytes(body), "m", 100, buffer, out var request, out _));
        Assert.Contains("\"max_tokens\":20", Encoding.UTF8.GetString(buffer.WrittenSpan), StringComparison.Ordinal);
        Assert.Equal(new TranslatedRequest(Stream: true, IncludeUsage: false), request);
    }

    [Fact]
    public void TryTranslate_ParallelToolCallsFalseWithoutToolChoice_AddsAutoWithFlag()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var body = $$$"""{"messages":[{{{User}}}],"tools":[{"type":"function","function":{"name":"f"}}],"parallel_tool_calls":false}""";

        Assert.True(AnthropicRequestTranslator.TryTranslate(Encoding.UTF8.GetBytes(body), "m", 100, buffer, out _, out _));
        Assert.EndsWith("""
            "tool_choice":{"type":"auto","disable_parallel_tool_use":true}}
            """, Encoding.UTF8.GetString(buffer.WrittenSpan), StringComparison.Ordinal);
    }

    [Fact]
    public void TryTranslate_ToolChoiceWithoutTools_IsDropped()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var body = $$"""{"messages":[{{User}}],"tools":[],"tool_choice":"required"}""";

        Assert.True(AnthropicRequestTranslator.TryTranslate(Encoding.UTF8.GetBytes(body), "m", 100, buffer, out _, out _));
        Assert.DoesNotContain("tool", Encoding.UTF8.GetString(buffer.WrittenSpan), StringComparison.Ordinal);
    }

    private static TranslationError? Translate(string body)
    {
        var buffer = new ArrayBufferWriter<byte>();
        return AnthropicRequestTranslator.TryTranslate(Encoding.UTF8.GetBytes(body), "claude-x", 1024, buffer, out _, out var error) ? null : error;
    }
}
