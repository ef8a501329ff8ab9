using System.Net;
using System.Text;
using System.Text.Json;
using AiGateway.FunctionalTests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace AiGateway.FunctionalTests;

public sealed class ProxyTests : IAsyncLifetime
{
    private const string UpstreamChatResponse = """{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-upstream","choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""";

    private WireMockServer _openai = null!;
    private WireMockServer _azure = null!;
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        _openai = Upstreams.StartWireMock();
        _azure = Upstreams.StartWireMock();
        _openai.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .AtPriority(100)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithHeader("x-request-id", "upstream-id-1").WithBody(UpstreamChatResponse));
        _openai.Given(Request.Create().WithPath("/v1/embeddings").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("""{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"embed-upstream","usage":{"prompt_tokens":1,"total_tokens":1}}"""));
        _openai.Given(Request.Create().WithPath("/v1/completions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("""{"id":"cmpl-1","object":"text_completion","created":1,"model":"gpt-upstream","choices":[{"text":"ok","index":0,"finish_reason":"stop"}]}"""));
        _azure.Given(Request.Create().WithPath("/openai/deployments/my-deployment/chat/completions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(UpstreamChatResponse));

        var config = TestConfig.Create(_openai.BaseUrl() + "/v1", _azure.BaseUrl());
        _gateway = await GatewayInstance.StartAsync(config.ToJsonString(), TestConfig.Credentials);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _openai.Stop();
        _azure.Stop();
    }

    [Fact]
    public async Task ChatCompletions_OpenAiDeployment_RewritesModelAndSwapsCredential()
    {
        var body = """{"model":"gpt-test","messages":[{"role":"user","content":"Hello"}],"temperature":0}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-request-id", "client-req-42");
        request.Headers.Add("Cookie", "session=abc");
        request.Headers.Add("x-api-key", "sk-should-not-leak");
        // As an ingress in front of the gateway adds them: the end user's address is not the provider's business.
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        request.Headers.Add("X-Forwarded-Host", "ai.example.com");
        request.Headers.Add("Forwarded", "for=203.0.113.7");
        request.Headers.Add("X-Real-IP", "203.0.113.7");

        using var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(UpstreamChatResponse, await response.Content.ReadAsStringAsync());
        Assert.Equal("client-req-42", response.Headers.GetValues("x-request-id").Single());
        Assert.Equal("upstream-id-1", response.Headers.GetValues("x-upstream-request-id").Single());

        var received = Assert.Single(_openai.LogEntries).RequestMessage!;
        Assert.Equal("/v1/chat/completions", received.Path);
        Assert.Equal("""{"model":"gpt-upstream","messages":[{"role":"user","content":"Hello"}],"temperature":0}""", received.Body);
        Assert.Equal($"Bearer {TestConfig.OpenAiKey}", Header(received, "Authorization"));
        Assert.Equal("client-req-42", Header(received, "x-request-id"));
        Assert.Null(Header(received, "Cookie"));
        Assert.Null(Header(received, "x-api-key"));
        Assert.Null(Header(received, "api-key"));
        Assert.Null(Header(received, "X-Forwarded-For"));
        Assert.Null(Header(received, "X-Forwarded-Host"));
        Assert.Null(Header(received, "Forwarded"));
        Assert.Null(Header(received, "X-Real-IP"));
        Assert.DoesNotContain(received.Headers!, h => h.Value.Any(v => v.Contains(GatewayInstance.Key, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ChatCompletions_AzureDeployment_UsesDeploymentPathApiVersionAndApiKeyHeader()
    {
        using var client = _gateway.CreateClient(null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions?api-version=evil")
        {
            Content = new StringContent("""{"model":"gpt-azure","messages":[]}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("api-key", GatewayInstance.Key);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_azure.LogEntries).RequestMessage!;
        Assert.Equal("/openai/deployments/my-deployment/chat/completions", received.Path);
        Assert.Equal("2024-10-21", received.Query!["api-version"].Single());
        Assert.Equal(TestConfig.AzureKey, Header(received, "api-key"));
        Assert.Null(Header(received, "Authorization"));
        Assert.Equal("""{"model":"my-deployment","messages":[]}""", received.Body);
    }

    [Fact]
    public async Task Embeddings_And_Completions_AreRoutedByModel()
    {
        using var embeddings = await _gateway.Client.PostAsync("v1/embeddings", Json("""{"input":"hi","model":"embed-test"}"""));
        using var completions = await _gateway.Client.PostAsync("v1/completions", Json("""{"model":"gpt-test","prompt":"Say ok"}"""));

        Assert.Equal(HttpStatusCode.OK, embeddings.StatusCode);
        Assert.Equal(HttpStatusCode.OK, completions.StatusCode);
        var paths = _openai.LogEntries.Select(e => (e.RequestMessage!.Path, e.RequestMessage.Body)).ToList();
        Assert.Contains(("/v1/embeddings", """{"input":"hi","model":"embed-upstream"}"""), paths);
        Assert.Contains(("/v1/completions", """{"model":"gpt-upstream","prompt":"Say ok"}"""), paths);
    }

    [Fact]
    public async Task UpstreamError_OpenAiShaped_IsPassedThrough()
    {
        const string error = """{"error":{"message":"Invalid 'messages': empty array.","type":"invalid_request_error","param":"messages","code":"empty_array"}}""";
        _openai.Given(Request.Create().WithPath("/v1/chat/completions").WithBody(b => b!.Contains("\"bad\"")).UsingPost())
            .AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(400).WithHeader("Content-Type", "application/json").WithBody(error));

        using var response = await _gateway.Client.PostAsync("v1/chat/completions", Json("""{"model":"gpt-test","messages":[],"bad":1}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(error, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(500, "<html>Internal Server Error at http://10.0.0.5/internal</html>", 500, "upstream_error")]
    [InlineData(503, "", 503, "upstream_error")]
    [InlineData(429, "slow down", 429, "rate_limit_exceeded")]
    [InlineData(401, """{"error":{"message":"Incorrect API key provided: sk-prov***CRET","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}""", 502, "upstream_authentication_failed")]
    public async Task UpstreamError_NotOpenAiShapedOrCredentialRelated_IsNormalized(int upstreamStatus, string upstreamBody, int expectedStatus, string expectedCode)
    {
        _openai.Given(Request.Create().WithPath("/v1/chat/completions").WithBody(b => b!.Contains("\"fail\"")).UsingPost())
            .AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(upstreamStatus).WithHeader("Content-Type", "text/html").WithBody(upstreamBody));

        using var response = await _gateway.Client.PostAsync("v1/chat/completions", Json("""{"model":"gpt-test","messages":[],"fail":1}"""));

        Assert.Equal(expectedStatus, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(text);
        Assert.Equal(expectedCode, json.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.DoesNotContain("10.0.0.5", text, StringComparison.Ordinal);
        Assert.DoesNotContain(_openai.BaseUrl(), text, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-prov", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_WithoutRequestId_GetsGeneratedOneForwardedAndReturned()
    {
        using var response = await _gateway.Client.PostAsync("v1/chat/completions", Json("""{"model":"gpt-test","messages":[]}"""));

        var id = response.Headers.GetValues("x-request-id").Single();
        Assert.StartsWith("req_", id, StringComparison.Ordinal);
        Assert.Equal(id, Header(Assert.Single(_openai.LogEntries).RequestMessage!, "x-request-id"));
    }

    [Fact]
    public async Task Request_WithMalformedRequestId_GetsReplaced()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Json("""{"model":"gpt-test","messages":[]}""") };
        request.Headers.TryAddWithoutValidation("x-request-id", "bad id with spaces and <script>");

        using var response = await _gateway.Client.SendAsync(request);

        Assert.StartsWith("req_", response.Headers.GetValues("x-request-id").Single(), StringComparison.Ordinal);
    }

    /// <summary>A received header by case-insensitive name (WireMock keeps the sender's casing), or null.</summary>
    internal static string? Header(WireMock.IRequestMessage message, string name) =>
        message.Headers!.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value?.Single();

    internal static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
