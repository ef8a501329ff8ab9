using System.Text;
using AiGateway.Protocol;

namespace AiGateway.Tests.Protocol;

public class RequestScannerTests
{
    [Fact]
    public void TryScan_TypicalChatRequest_ReadsRoutingFields()
    {
        var body = """{"messages":[{"role":"user","content":"hi"}],"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"max_tokens":50}""";

        Assert.True(RequestScanner.TryScan(Encoding.UTF8.GetBytes(body), out var scanned, out _));

        Assert.Equal("gpt-4o", scanned.Model);
        Assert.True(scanned.Stream);
        Assert.True(scanned.IncludeUsage);
        Assert.Equal(50, scanned.MaxTokens);
        Assert.Equal("\"gpt-4o\"", body.Substring(scanned.ModelStart, scanned.ModelLength));
    }

    [Fact]
    public void TryScan_EscapedModelName_IsUnescapedAndTokenSpanCoversEscapes()
    {
        var body = """{"model":"gpt\u002d4o"}""";

        Assert.True(RequestScanner.TryScan(Encoding.UTF8.GetBytes(body), out var scanned, out _));

        Assert.Equal("gpt-4o", scanned.Model);
        Assert.Equal("\"gpt\\u002d4o\"", body.Substring(scanned.ModelStart, scanned.ModelLength));
    }

    [Fact]
    public void TryScan_MaxCompletionTokens_WinsOverMaxTokens()
    {
        Assert.True(RequestScanner.TryScan("""{"model":"m","max_completion_tokens":7,"max_tokens":9}"""u8, out var scanned, out _));

        Assert.Equal(7, scanned.MaxTokens);
    }

    [Fact]
    public void TryScan_NestedModelProperty_IsNotMistakenForTopLevel()
    {
        Assert.True(RequestScanner.TryScan("""{"metadata":{"model":"evil"},"model":"good","tools":[{"model":"x"}]}"""u8, out var scanned, out _));

        Assert.Equal("good", scanned.Model);
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("   ", null)]
    [InlineData("null", null)]
    [InlineData("\"model\"", null)]
    [InlineData("{", null)]
    [InlineData("{\"model\":\"a\"}{}", null)]
    [InlineData("{\"model\":\"a\",}", null)]
    [InlineData("{}", "model")]
    [InlineData("{\"model\":1}", "model")]
    [InlineData("{\"model\":[\"a\"]}", "model")]
    [InlineData("{\"model\":\"\"}", "model")]
    [InlineData("{\"model\":\"a\",\"model\":\"b\"}", "model")]
    [InlineData("{\"model\":\"a\",\"stream\":1}", "stream")]
    [InlineData("{\"model\":\"a\",\"stream_options\":5}", "stream_options")]
    [InlineData("{\"model\":\"a\",\"stream_options\":{\"include_usage\":\"yes\"}}", "stream_options.include_usage")]
    [InlineData("{\"model\":\"a\",\"max_tokens\":0}", "max_tokens")]
    [InlineData("{\"model\":\"a\",\"max_tokens\":1.5}", "max_tokens")]
    [InlineData("{\"model\":\"a\",\"max_completion_tokens\":\"10\"}", "max_completion_tokens")]
    [InlineData("{\"model\":\"a\",\"max_tokens\":99999999999}", "max_tokens")]
    public void TryScan_InvalidBody_ReportsErrorAndParam(string body, string? param)
    {
        Assert.False(RequestScanner.TryScan(Encoding.UTF8.GetBytes(body), out _, out var error));

        Assert.Equal(param, error.Param);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Fact]
    public void TryScan_InvalidUtf8_IsRejected()
    {
        byte[] body = [.. "{\"model\":\""u8, 0xC3, 0x28, .. "\"}"u8];

        Assert.False(RequestScanner.TryScan(body, out _, out var error));
        Assert.Null(error.Param);
    }

    [Fact]
    public void TryScan_InvalidUtf8OutsideRoutingFields_IsRejected()
    {
        byte[] body = [.. "{\"model\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":\"h"u8, 0xFF, 0xFE, .. "\"}]}"u8];

        Assert.False(RequestScanner.TryScan(body, out _, out var error));

        Assert.Contains("not valid UTF-8", error.Message, StringComparison.Ordinal);
        Assert.Null(error.Param);
    }

    [Theory]
    [InlineData("\\ud800")]
    [InlineData("a\\udc00b")]
    [InlineData("\\ud83d\\u0041")]
    [InlineData("\\ud83d\\n")]
    [InlineData("\\uDBFF")]
    public void TryScan_LoneSurrogateEscape_IsRejected(string content)
    {
        var body = "{\"model\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}";

        Assert.False(RequestScanner.TryScan(Encoding.UTF8.GetBytes(body), out _, out var error));

        Assert.Contains("surrogate", error.Message, StringComparison.Ordinal);
        Assert.Null(error.Param);
    }

    [Theory]
    [InlineData("\\ud83d\\ude00")]
    [InlineData("\\\\ud800")]
    [InlineData("\\u00e9\\\"\\\\")]
    public void TryScan_ValidEscapes_AreAccepted(string content)
    {
        var body = "{\"model\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":\"" + content + "\"}]}";

        Assert.True(RequestScanner.TryScan(Encoding.UTF8.GetBytes(body), out _, out _));
    }

    [Fact]
    public void TryScan_ByteOrderMark_IsRejectedWithReason()
    {
        byte[] body = [0xEF, 0xBB, 0xBF, .. "{\"model\":\"a\"}"u8];

        Assert.False(RequestScanner.TryScan(body, out _, out var error));

        Assert.Contains("byte order mark", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryScan_DeepNesting_IsRejectedNotThrown()
    {
        var body = "{\"model\":\"a\",\"x\":" + new string('[', 10_000) + new string(']', 10_000) + "}";

        Assert.False(RequestScanner.TryScan(Encoding.UTF8.GetBytes(body), out _, out _));
    }

    [Theory]
    [InlineData("[", "]")]
    [InlineData("{\"a\":", "}")]
    public void TryScan_NestingBeyondDefaultParserDepth_IsRejectedAsTooDeep(string open, string close)
    {
        // 65 levels scanned fine before while every later JsonDocument.Parse (default depth 64) threw: a 500.
        var body = "{\"model\":\"a\",\"x\":" + string.Concat(Enumerable.Repeat(open, 64)) + "1" + string.Concat(Enumerable.Repeat(close, 64)) + "}";

        Assert.False(RequestScanner.TryScan(Encoding.UTF8.GetBytes(body), out _, out var error));

        Assert.Contains("nested more than 64 levels", error.Message, StringComparison.Ordinal);
        Assert.Null(error.Param);
    }

    [Fact]
    public void TryScan_NestingAtDefaultParserDepth_IsAcceptedAndParses()
    {
        var body = "{\"model\":\"a\",\"x\":" + new string('[', 63) + "1" + new string(']', 63) + "}";

        Assert.True(RequestScanner.TryScan(Encoding.UTF8.GetBytes(body), out _, out _));
        using var document = System.Text.Json.JsonDocument.Parse(body);
    }

    [Fact]
    public void TryScan_ErrorMessage_NeverEchoesBody()
    {
        Assert.False(RequestScanner.TryScan("{\"model\":\"a\", sk-secret-value }"u8, out _, out var error));

        Assert.DoesNotContain("sk-secret", error.Message, StringComparison.Ordinal);
    }
}
