using System.Net;
using System.Text.Json;
using AiGateway.FunctionalTests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace AiGateway.FunctionalTests;

/// <summary>
/// OpenAI clients against an Anthropic deployment, with WireMock as the Anthropic API: the golden
/// translation cases replayed through the real gateway, byte for byte on both sides.
/// </summary>
public sealed class AnthropicProviderTests : IAsyncLifetime
{
    private const string Outbound = "outbound";

    private WireMockServer _anthropic = null!;

    public Task InitializeAsync()
    {
        _anthropic = Upstreams.StartWireMock();
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _anthropic.Stop();
        return Task.CompletedTask;
    }

    public static TheoryData<string> JsonCases => Golden.Cases(Outbound, "request.json", "upstream-request.json", "upstream-response.json");

    public static TheoryData<string> StreamCases => Golden.Cases(Outbound, "request.json", "upstream-request.json", "upstream-stream.txt");

    public static TheoryData<string> RejectedCases => Golden.Cases(Outbound, "request.json", "request-error.json");

    [Theory]
    [MemberData(nameof(JsonCases))]
    public async Task ChatCompletions_GoldenCase_SendsExactAnthropicRequestAndReturnsExactCompletion(string name)
    {
        RespondWith(200, "application/json", Golden.Text(Outbound, name, "upstream-response.json"));
        await using var gateway = await StartAsync(DefaultMaxTokens(name));

        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Golden.Text(Outbound, name, "request.json")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(Golden.Json(Outbound, name, "response.json"), await response.Content.ReadAsStringAsync());
        AssertAnthropicRequest("/v1/messages", Golden.Json(Outbound, name, "upstream-request.json"));
    }

    [Theory]
    [MemberData(nameof(StreamCases))]
    public async Task ChatCompletions_GoldenStream_SendsExactAnthropicRequestAndStreamsExactChunks(string name)
    {
        RespondWith(200, "text/event-stream", Golden.Text(Outbound, name, "upstream-stream.txt"));
        await using var gateway = await StartAsync(DefaultMaxTokens(name));

        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Golden.Text(Outbound, name, "request.json")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(Golden.Text(Outbound, name, "response.txt"), await response.Content.ReadAsStringAsync());
        AssertAnthropicRequest("/v1/messages", Golden.Json(Outbound, name, "upstream-request.json"));
    }

    [Theory]
    [InlineData("stream-mid-stream-error", true)]
    [InlineData("stream-thinking-max-tokens", true)]
    [InlineData("stream-truncated", false)]
    public async Task ChatCompletions_UpstreamStreamErrorsOrBreaks_ClientGetsExactChunksAndErrorEvent(string name, bool includeUsage)
    {
        RespondWith(200, "text/event-stream", Golden.Text(Outbound, name, "upstream-stream.txt"));
        await using var gateway = await StartAsync();
        var usage = includeUsage ? "\"stream_options\":{\"include_usage\":true}," : "";

        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(
            $$"""{"model":"claude-sonnet","stream":true,{{usage}}"max_tokens":64,"messages":[{"role":"user","content":"Hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Golden.Text(Outbound, name, "response.txt"), await response.Content.ReadAsStringAsync());
        AssertAnthropicRequest("/v1/messages", """{"model":"claude-sonnet-4-5-20250929","max_tokens":64,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],"stream":true}""");
    }

    [Theory]
    [MemberData(nameof(RejectedCases))]
    public async Task ChatCompletions_UntranslatableRequest_Is400WithoutUpstreamCall(string name)
    {
        await using var gateway = await StartAsync();

        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Golden.Text(Outbound, name, "request.json")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(Golden.Json(Outbound, name, "request-error.json"), await response.Content.ReadAsStringAsync());
        Assert.Empty(_anthropic.LogEntries);
    }

    public static TheoryData<string> ErrorCases
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (string name in Golden.Cases(Outbound, "upstream-error.json"))
            {
                // Anthropic refusing the gateway's own key is not the caller's fault: see UpstreamCredentialRefused below.
                if (name is not ("error-authentication" or "error-permission")) data.Add(name);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(ErrorCases))]
    public async Task ChatCompletions_AnthropicError_MappedToOpenAiStatusAndBody(string name)
    {
        var settings = Golden.Case(Outbound, name);
        var upstreamStatus = settings.GetProperty("upstreamStatus").GetInt32();
        _anthropic.Given(Request.Create().WithPath("/v1/messages").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(upstreamStatus).WithHeader("Content-Type", "application/json")
                .WithHeader("retry-after", "7").WithHeader("retry-after-ms", "7000").WithBody(Golden.Text(Outbound, name, "upstream-error.json")));
        await using var gateway = await StartAsync();

        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"claude-sonnet","messages":[{"role":"user","content":"Hi"}]}"""));

        Assert.Equal(settings.GetProperty("expectedStatus").GetInt32(), (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(Golden.Json(Outbound, name, "error.json"), await response.Content.ReadAsStringAsync());
        if (settings.GetProperty("keepRetryAfter").GetBoolean())
        {
            Assert.Equal("7", response.Headers.GetValues("retry-after").Single());
            Assert.Equal("7000", response.Headers.GetValues("retry-after-ms").Single());
        }
    }

    [Theory]
    [InlineData(401, "error-authentication")]
    [InlineData(403, "error-permission")]
    public async Task ChatCompletions_UpstreamCredentialRefused_Is502NotTheCallersAuthError(int status, string name)
    {
        RespondWith(status, "application/json", Golden.Text(Outbound, name, "upstream-error.json"));
        await using var gateway = await StartAsync();

        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"claude-sonnet","messages":[{"role":"user","content":"Hi"}]}"""));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(
            """{"error":{"message":"The upstream deployment 'anthropic/claude-sonnet-4-5-20250929' rejected the gateway's provider credential.","type":"server_error","param":null,"code":"upstream_authentication_failed"}}""",
            await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("v1/completions", """{"model":"claude-sonnet","prompt":"Hi"}""", "text_completion")]
    [InlineData("v1/embeddings", """{"model":"claude-sonnet","input":"Hi"}""", "embeddings")]
    public async Task OtherOperations_AnthropicModel_Are400WithoutUpstreamCall(string path, string body, string operation)
    {
        await using var gateway = await StartAsync();

        using var response = await gateway.Client.PostAsync(path, ProxyTests.Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(
            $$$"""{"error":{"message":"The model 'claude-sonnet' is served by Anthropic, which only supports chat completions; '{{{operation}}}' is not available for it.","type":"invalid_request_error","param":"model","code":"unsupported_operation"}}""",
            await response.Content.ReadAsStringAsync());
        Assert.Empty(_anthropic.LogEntries);
    }

    [Fact]
    public async Task ChatCompletions_ClusterAnthropicVersion_IsSentAndClientHeadersAreNot()
    {
        RespondWith(200, "application/json", Golden.Text(Outbound, "text-system-multiturn", "upstream-response.json"));
        var config = TestConfig.Create(anthropicBase: _anthropic.BaseUrl() + "/v1");
        config["clusters"]!["anthropic"]!["anthropicVersion"] = "2099-01-01";
        await using var gateway = await GatewayInstance.StartAsync(config.ToJsonString(), TestConfig.Credentials);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions?beta=true")
        {
            Content = ProxyTests.Json("""{"model":"claude-sonnet","messages":[{"role":"user","content":"Hi"}]}"""),
        };
        request.Headers.Add("anthropic-version", "1999-01-01");
        request.Headers.Add("anthropic-beta", "some-beta");

        using var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_anthropic.LogEntries).RequestMessage!;
        Assert.Equal("2099-01-01", ProxyTests.Header(received, "anthropic-version"));
        Assert.Null(ProxyTests.Header(received, "anthropic-beta"));
        Assert.Empty(received.Query!);
    }

    private void RespondWith(int status, string contentType, string body) =>
        _anthropic.Given(Request.Create().WithPath("/v1/messages").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", contentType).WithBody(body));

    private Task<GatewayInstance> StartAsync(int? claudeMaxOutputTokens = null) => GatewayInstance.StartAsync(
        TestConfig.Create(anthropicBase: _anthropic.BaseUrl() + "/v1", claudeMaxOutputTokens: claudeMaxOutputTokens).ToJsonString(),
        GatewayInstance.FixedClock(Golden.Created),
        TestConfig.Credentials);

    /// <summary>A case's catalog default; 4096 (the gateway's own default) is left unset so the default itself is tested.</summary>
    private static int? DefaultMaxTokens(string name) =>
        Golden.Case(Outbound, name) is { ValueKind: JsonValueKind.Object } settings && settings.TryGetProperty("defaultMaxTokens", out var value) ? value.GetInt32() : null;

    internal void AssertAnthropicRequest(string path, string body) => AssertAnthropicRequest(_anthropic, path, body);

    /// <summary>The one request the Anthropic API received: path, exact body, provider key and version, no client credential.</summary>
    internal static void AssertAnthropicRequest(WireMockServer anthropic, string path, string body, string version = "2023-06-01")
    {
        var received = Assert.Single(anthropic.LogEntries).RequestMessage!;
        Assert.Equal(path, received.Path);
        Assert.Equal(body, received.Body);
        Assert.Equal(TestConfig.AnthropicKey, ProxyTests.Header(received, "x-api-key"));
        Assert.Equal(version, ProxyTests.Header(received, "anthropic-version"));
        Assert.Null(ProxyTests.Header(received, "Authorization"));
        Assert.Null(ProxyTests.Header(received, "api-key"));
        Assert.DoesNotContain(received.Headers!, h => h.Value.Any(v => v.Contains(GatewayInstance.Key, StringComparison.Ordinal)));
    }
}
