using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AiGateway.FunctionalTests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace AiGateway.FunctionalTests;

/// <summary>
/// The gateway's Anthropic surface, <c>POST /v1/messages</c> and <c>/v1/messages/count_tokens</c>, as an
/// Anthropic SDK calls it (<c>x-api-key</c>, <c>anthropic-version</c>): passed through to an Anthropic
/// deployment, translated for an OpenAI-compatible one (the inbound golden cases) and for the mock.
/// </summary>
public sealed partial class AnthropicSurfaceTests : IAsyncLifetime
{
    private const string Inbound = "inbound";
    private const string Outbound = "outbound";

    private WireMockServer _anthropic = null!;
    private WireMockServer _openai = null!;
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        _anthropic = Upstreams.StartWireMock();
        _openai = Upstreams.StartWireMock();
        var config = TestConfig.Create(openAiBase: _openai.BaseUrl() + "/v1", anthropicBase: _anthropic.BaseUrl() + "/v1");
        // The inbound golden cases' names: public gpt-4o served by an OpenAI-compatible gpt-4o-2024-08-06.
        config["models"]!.AsArray().Add(new JsonObject
        {
            ["name"] = "gpt-4o",
            ["deployments"] = new JsonArray { new JsonObject { ["cluster"] = "openai", ["model"] = "gpt-4o-2024-08-06" } },
        });
        // These tests pin the translation of each single upstream answer; retries are the resilience tests' business.
        config["resilience"] = new JsonObject { ["maxAttempts"] = 1 };
        _gateway = await GatewayInstance.StartAsync(config.ToJsonString(), GatewayInstance.FixedClock(Golden.Created), TestConfig.Credentials);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _anthropic.Stop();
        _openai.Stop();
    }

    [Fact]
    public async Task Messages_AnthropicDeployment_PassesThroughWithModelRenamedAndKeySwapped()
    {
        const string answer = """{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hi!"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":3}}""";
        _anthropic.Given(Request.Create().WithPath("/v1/messages").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(answer));

        using var response = await SendAsync("v1/messages", """{"model":"claude-sonnet","max_tokens":64,"top_k":5,"messages":[{"role":"user","content":"Hello"}]}""", beta: "prompt-caching-2024-07-31");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(answer, await response.Content.ReadAsStringAsync());
        AnthropicProviderTests.AssertAnthropicRequest(_anthropic, "/v1/messages",
            """{"model":"claude-sonnet-4-5-20250929","max_tokens":64,"top_k":5,"messages":[{"role":"user","content":"Hello"}]}""");
        Assert.Equal("prompt-caching-2024-07-31", ProxyTests.Header(_anthropic.LogEntries.Single().RequestMessage!, "anthropic-beta"));
    }

    [Fact]
    public async Task Messages_AnthropicDeploymentStream_RelaysEveryEventUnchanged()
    {
        var stream = Golden.Text(Outbound, "stream-parallel-tools", "upstream-stream.txt");
        _anthropic.Given(Request.Create().WithPath("/v1/messages").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(stream));

        using var response = await SendAsync("v1/messages", """{"model":"claude-sonnet","max_tokens":300,"stream":true,"messages":[{"role":"user","content":"Weather?"}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(stream, await response.Content.ReadAsStringAsync());
        AnthropicProviderTests.AssertAnthropicRequest(_anthropic, "/v1/messages",
            """{"model":"claude-sonnet-4-5-20250929","max_tokens":300,"stream":true,"messages":[{"role":"user","content":"Weather?"}]}""");
    }

    [Fact]
    public async Task Messages_AnthropicDeploymentStreamCut_EndsWithAnthropicErrorEvent()
    {
        const string partial = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n";
        _anthropic.Given(Request.Create().WithPath("/v1/messages").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(partial));

        using var response = await SendAsync("v1/messages", """{"model":"claude-sonnet","max_tokens":30,"stream":true,"messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(
            partial + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"The upstream stream ended before the response was complete.\"}}\n\n",
            await response.Content.ReadAsStringAsync());
    }

    public static TheoryData<string> JsonCases => Golden.Cases(Inbound, "request.json", "upstream-request.json", "upstream-response.json");

    [Theory]
    [MemberData(nameof(JsonCases))]
    public async Task Messages_OpenAiDeployment_GoldenCase_SendsExactChatRequestAndReturnsExactMessage(string name)
    {
        _openai.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(Golden.Text(Inbound, name, "upstream-response.json")));

        using var response = await SendAsync("v1/messages", Golden.Text(Inbound, name, "request.json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Golden.Json(Inbound, name, "response.json"), await response.Content.ReadAsStringAsync());
        AssertOpenAiRequest(Golden.Json(Inbound, name, "upstream-request.json"));
    }

    [Fact]
    public async Task Messages_OpenAiDeploymentStream_GoldenCase_StreamsExactAnthropicEvents()
    {
        _openai.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(Golden.Text(Inbound, "stream-text", "upstream-stream.txt")));

        using var response = await SendAsync("v1/messages", Golden.Text(Inbound, "stream-text", "request.json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(Golden.Text(Inbound, "stream-text", "response.txt"), await response.Content.ReadAsStringAsync());
        AssertOpenAiRequest(Golden.Json(Inbound, "stream-text", "upstream-request.json"));
    }

    [Theory]
    [InlineData("stream-parallel-tools")]
    [InlineData("stream-mid-stream-error")]
    [InlineData("stream-no-done")]
    [InlineData("stream-truncated")]
    public async Task Messages_OpenAiDeploymentStream_ToolsErrorsAndCuts_ExactAnthropicEvents(string name)
    {
        _openai.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(Golden.Text(Inbound, name, "upstream-stream.txt")));

        using var response = await SendAsync("v1/messages", """{"model":"gpt-4o","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(Golden.Text(Inbound, name, "response.txt"), await response.Content.ReadAsStringAsync());
    }

    public static TheoryData<string> ErrorCases
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (string name in Golden.Cases(Inbound, "upstream-error.json"))
            {
                // A provider refusing the gateway's own key is reported as 502 (see Messages_UpstreamCredentialRefused).
                if (name is not ("error-authentication" or "error-permission")) data.Add(name);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(ErrorCases))]
    public async Task Messages_OpenAiDeploymentError_AnthropicStatusAndShape(string name)
    {
        var settings = Golden.Case(Inbound, name);
        _openai.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(settings.GetProperty("upstreamStatus").GetInt32()).WithHeader("Content-Type", "application/json")
                .WithHeader("retry-after", "3").WithBody(Golden.Text(Inbound, name, "upstream-error.json")));

        using var response = await SendAsync("v1/messages", """{"model":"gpt-4o","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(settings.GetProperty("expectedStatus").GetInt32(), (int)response.StatusCode);
        Assert.Equal(Golden.Json(Inbound, name, "error.json"), await response.Content.ReadAsStringAsync());
        if (settings.GetProperty("keepRetryAfter").GetBoolean())
        {
            Assert.Equal("3", response.Headers.GetValues("retry-after").Single());
        }
    }

    public static TheoryData<string> RejectedCases => Golden.Cases(Inbound, "request.json", "request-error.json");

    [Theory]
    [MemberData(nameof(RejectedCases))]
    public async Task Messages_UntranslatableForOpenAiDeployment_Is400InAnthropicShape(string name)
    {
        using var response = await SendAsync("v1/messages", Golden.Text(Inbound, name, "request.json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(Golden.Json(Inbound, name, "request-error.json"), await response.Content.ReadAsStringAsync());
        Assert.Empty(_openai.LogEntries);
    }

    [Fact]
    public async Task Messages_AnthropicDeploymentError_KeepsAnthropicStatusTypeAndRetryAfter()
    {
        _anthropic.Given(Request.Create().WithPath("/v1/messages").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(529).WithHeader("Content-Type", "application/json").WithHeader("retry-after", "5")
                .WithBody("""{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"""));

        using var response = await SendAsync("v1/messages", """{"model":"claude-sonnet","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(529, (int)response.StatusCode);
        Assert.Equal("""{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""", await response.Content.ReadAsStringAsync());
        Assert.Equal("5", response.Headers.GetValues("retry-after").Single());
    }

    [Theory]
    [InlineData("claude-sonnet", "anthropic/claude-sonnet-4-5-20250929")]
    [InlineData("gpt-4o", "openai/gpt-4o-2024-08-06")]
    public async Task Messages_UpstreamCredentialRefused_Is502InAnthropicShape(string model, string deployment)
    {
        _anthropic.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(401).WithBody("""{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"""));
        _openai.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(401).WithBody("""{"error":{"message":"Incorrect API key provided: sk-pro***RET.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"""));

        using var response = await SendAsync("v1/messages", $$"""{"model":"{{model}}","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(
            $$$"""{"type":"error","error":{"type":"api_error","message":"The upstream deployment '{{{deployment}}}' rejected the gateway's provider credential."}}""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Messages_MockDeployment_EchoAnswersTheAnthropicApi()
    {
        using var response = await SendAsync("v1/messages", """{"model":"echo","max_tokens":64,"system":"Be brief.","messages":[{"role":"user","content":"Hello, gateway!"}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            """{"id":"ID","type":"message","role":"assistant","model":"echo","content":[{"type":"text","text":"Hello, gateway!"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":18,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}}""",
            MockId().Replace(await response.Content.ReadAsStringAsync(), "ID"));
    }

    [Fact]
    public async Task Messages_MockDeploymentStream_EchoStreamsAnthropicEvents()
    {
        using var response = await SendAsync("v1/messages", """{"model":"echo","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"one two"}]}""");

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(
            """
            event: message_start
            data: {"type":"message_start","message":{"id":"ID","type":"message","role":"assistant","model":"echo","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}}

            event: content_block_start
            data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"one"}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" two"}}

            event: content_block_stop
            data: {"type":"content_block_stop","index":0}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":9,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}}

            event: message_stop
            data: {"type":"message_stop"}


            """.ReplaceLineEndings("\n"),
            MockId().Replace(await response.Content.ReadAsStringAsync(), "ID"));
    }

    [Fact]
    public async Task CountTokens_AnthropicDeployment_ForwardedToAnthropic()
    {
        _anthropic.Given(Request.Create().WithPath("/v1/messages/count_tokens").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("""{"input_tokens":14}"""));

        using var response = await SendAsync("v1/messages/count_tokens", """{"model":"claude-sonnet","messages":[{"role":"user","content":"Hello, Claude"}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"input_tokens":14}""", await response.Content.ReadAsStringAsync());
        AnthropicProviderTests.AssertAnthropicRequest(_anthropic, "/v1/messages/count_tokens",
            """{"model":"claude-sonnet-4-5-20250929","messages":[{"role":"user","content":"Hello, Claude"}]}""");
    }

    [Theory]
    [InlineData("echo")]
    [InlineData("gpt-4o")]
    public async Task CountTokens_OtherDeployments_CountedByTheGateway(string model)
    {
        using var response = await SendAsync("v1/messages/count_tokens", $$"""{"model":"{{model}}","system":"Be brief.","messages":[{"role":"user","content":"Hello, world"}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        // 3 per message (system, user) + their text + 3 to prime the reply, as the OpenAI deployment would bill it.
        Assert.Equal("""{"input_tokens":17}""", await response.Content.ReadAsStringAsync());
        Assert.Empty(_openai.LogEntries);
    }

    [Theory]
    [InlineData(null, """{"model":"echo","max_tokens":5,"messages":[]}""", 401, "authentication_error", "You didn't provide an API key. Send it as 'x-api-key: YOUR_KEY' or 'Authorization: Bearer YOUR_KEY'.")]
    [InlineData("sk-wrong", """{"model":"echo","max_tokens":5,"messages":[]}""", 401, "authentication_error", "Incorrect API key provided.")]
    [InlineData(GatewayInstance.LimitedKey, """{"model":"claude-sonnet","max_tokens":5,"messages":[]}""", 403, "permission_error", "Your key is not allowed to use the model 'claude-sonnet'.")]
    [InlineData(GatewayInstance.Key, """{"model":"claude-nope","max_tokens":5,"messages":[]}""", 404, "not_found_error", "The model 'claude-nope' does not exist or you do not have access to it.")]
    [InlineData(GatewayInstance.Key, """{"model":"echo",""", 400, "invalid_request_error", "We could not parse the JSON body of your request: invalid JSON at line 1, position 16.")]
    [InlineData(GatewayInstance.Key, """{"model":"echo","messages":[{"role":"user","content":"Hi"}]}""", 400, "invalid_request_error", "'max_tokens' is required.")]
    public async Task Messages_GatewayErrors_AreAnthropicShaped(string? key, string body, int status, string type, string message)
    {
        using var response = await SendAsync("v1/messages", body, key);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(
            new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = type, ["message"] = message } }.ToJsonString(new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }),
            await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("v1/messages")]
    [InlineData("v1/messages/count_tokens")]
    public async Task Messages_ToolSchemaAtDepthLimit_Is400NotA500FromTheTranslatedChat(string path)
    {
        // 64 levels deep as sent; the chat completion it translates to nests the schema one level deeper.
        var schema = string.Concat(Enumerable.Repeat("{\"a\":", 61)) + "1" + new string('}', 61);
        var body = """{"model":"echo","max_tokens":5,"tools":[{"name":"t","input_schema":""" + schema + """}],"messages":[{"role":"user","content":"x"}]}""";

        using var response = await SendAsync(path, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("""{"type":"error","error":{"type":"invalid_request_error","message":"The JSON body of your request is nested more than 63 levels deep."}}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Messages_WrongMethod_Is405InAnthropicShape()
    {
        using var response = await _gateway.Client.GetAsync("v1/messages");

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("""{"type":"error","error":{"type":"invalid_request_error","message":"Method GET is not allowed on /v1/messages; use POST."}}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ChatCompletions_XApiKey_IsNotAGatewayCredentialOnTheOpenAiSurface()
    {
        using var client = _gateway.CreateClient(null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = ProxyTests.Json("""{"model":"echo","messages":[]}""") };
        request.Headers.Add("x-api-key", GatewayInstance.Key);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("""{"error":{""", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>Sends as an Anthropic SDK does: the key in <c>x-api-key</c>, plus <c>anthropic-version</c>.</summary>
    private async Task<HttpResponseMessage> SendAsync(string path, string body, string? key = GatewayInstance.Key, string? beta = null)
    {
        using var client = _gateway.CreateClient(null);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = ProxyTests.Json(body) };
        if (key is not null) request.Headers.Add("x-api-key", key);
        request.Headers.Add("anthropic-version", "2023-06-01");
        if (beta is not null) request.Headers.Add("anthropic-beta", beta);
        var response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private void AssertOpenAiRequest(string body)
    {
        var received = Assert.Single(_openai.LogEntries).RequestMessage!;
        Assert.Equal("/v1/chat/completions", received.Path);
        Assert.Equal(body, received.Body);
        Assert.Equal($"Bearer {TestConfig.OpenAiKey}", ProxyTests.Header(received, "Authorization"));
        Assert.Null(ProxyTests.Header(received, "x-api-key"));
        Assert.Null(ProxyTests.Header(received, "anthropic-version"));
    }

    [GeneratedRegex("chatcmpl-mock[0-9a-f]+")]
    private static partial Regex MockId();
}
