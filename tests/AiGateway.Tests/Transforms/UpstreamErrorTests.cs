using System.Text;
using System.Text.Json;
using AiGateway.Transforms;

namespace AiGateway.Tests.Transforms;

public class UpstreamErrorTests
{
    private const string OpenAiShaped = """{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}""";

    private static JsonElement Error(byte[] body) => JsonDocument.Parse(body).RootElement.GetProperty("error");

    [Fact]
    public void NormalizeError_OpenAiShaped_PassesBytesThrough()
    {
        var (status, body) = UpstreamErrors.Normalize(400, Encoding.UTF8.GetBytes(OpenAiShaped), "openai/gpt", "sk-x");

        Assert.Equal(400, status);
        Assert.Equal(OpenAiShaped, Encoding.UTF8.GetString(body));
    }

    [Theory]
    [InlineData(401)]
    [InlineData(403)]
    public void NormalizeError_ProviderRejectedCredential_Becomes502WithoutProviderText(int upstream)
    {
        var (status, body) = UpstreamErrors.Normalize(upstream, Encoding.UTF8.GetBytes("""{"error":{"message":"Incorrect API key provided: sk-ab***yz"}}"""), "openai/gpt", "sk-abcdxyz");

        Assert.Equal(502, status);
        Assert.Equal("upstream_authentication_failed", Error(body).GetProperty("code").GetString());
        Assert.DoesNotContain("sk-ab", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
    }

    [Fact]
    public void NormalizeError_BodyQuotingCredential_IsReplaced()
    {
        var (_, body) = UpstreamErrors.Normalize(400, Encoding.UTF8.GetBytes("""{"error":{"message":"key sk-secret-1 is bad"}}"""), "d", "sk-secret-1");

        Assert.DoesNotContain("sk-secret-1", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(500, "<html>oops</html>", "server_error", "upstream_error")]
    [InlineData(429, "", "rate_limit_error", "rate_limit_exceeded")]
    [InlineData(404, "not found", "not_found_error", "upstream_rejected")]
    [InlineData(400, "[1]", "invalid_request_error", "upstream_rejected")]
    [InlineData(400, """{"error":"string"}""", "invalid_request_error", "upstream_rejected")]
    public void NormalizeError_OtherBodies_BecomeOpenAiErrors(int upstream, string text, string type, string code)
    {
        var (status, body) = UpstreamErrors.Normalize(upstream, Encoding.UTF8.GetBytes(text), "openai/gpt", null);

        Assert.Equal(upstream, status);
        Assert.Equal(type, Error(body).GetProperty("type").GetString());
        Assert.Equal(code, Error(body).GetProperty("code").GetString());
        Assert.Contains("openai/gpt", Error(body).GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void NormalizeError_OversizedBody_IsReplaced()
    {
        var (status, body) = UpstreamErrors.Normalize(502, null, "d", null);

        Assert.Equal(502, status);
        Assert.Equal("upstream_error", Error(body).GetProperty("code").GetString());
    }
}
