using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiGateway.FunctionalTests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace AiGateway.FunctionalTests;

public sealed class PromptTransformsTests : IAsyncLifetime
{
    private const string Transforms = """
        {
          "systemPrompt": { "mode": "prepend", "text": "You are the Contoso assistant." },
          "templates": [
            { "name": "translate", "messages": [ { "role": "system", "content": "Translate into {{language}}." }, { "role": "user", "content": "{{text}}" } ] }
          ],
          "parameters": { "defaults": { "temperature": 0.3 }, "max": { "max_tokens": 256 }, "deny": [ "logprobs" ] },
          "redaction": { "restoreInResponse": true },
          "guardrails": { "maxPromptChars": 2000, "rules": [ { "name": "project-names", "keywords": [ "Project Falcon" ], "checkOutput": true } ] }
        }
        """;

    private WireMockServer _openai = null!;
    private GatewayInstance _gateway = null!;
    private JsonObject _config = null!;

    public async Task InitializeAsync()
    {
        _openai = Upstreams.StartWireMock();
        _openai.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .AtPriority(100)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithBody("""{"id":"c1","object":"chat.completion","created":1,"model":"gpt-upstream","choices":[{"index":0,"message":{"role":"assistant","content":"Sent to [EMAIL_1]; [EMAIL_9] is unknown."},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}"""));

        _config = TestConfig.Create(_openai.BaseUrl() + "/v1");
        var models = _config["models"]!.AsArray();
        var gpt = models.Single(m => (string)m!["name"]! == "gpt-test")!.AsObject();
        gpt["aliases"] = new JsonArray("fast");
        gpt["promptTransforms"] = JsonNode.Parse(Transforms);
        models.Add(new JsonObject { ["name"] = "gpt-plain", ["deployments"] = new JsonArray { new JsonObject { ["cluster"] = "openai", ["model"] = "gpt-upstream" } } });
        _gateway = await GatewayInstance.StartAsync(_config.ToJsonString(), TestConfig.Credentials);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _openai.Stop();
    }

    [Theory]
    [InlineData("template-redaction")]
    [InlineData("system-parameters")]
    [InlineData("alias-content-parts")]
    public async Task ChatCompletions_GoldenRequest_UpstreamGetsExactTransformedBody(string name)
    {
        using var response = await _gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Fixture(name, "request.json")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_openai.LogEntries).RequestMessage!;
        Assert.Equal(Fixture(name, "upstream.json"), received.Body);
    }

    [Fact]
    public async Task ChatCompletions_RedactedValueInAnswer_RestoredForTheClient()
    {
        var body = """{"model":"gpt-test","messages":[{"role":"user","content":"Mail jane.doe@example.com"}]}""";

        using var response = await _gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            """{"id":"c1","object":"chat.completion","created":1,"model":"gpt-upstream","choices":[{"index":0,"message":{"role":"assistant","content":"Sent to jane.doe@example.com; [EMAIL_9] is unknown."},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""",
            await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain("jane.doe", Assert.Single(_openai.LogEntries).RequestMessage!.Body!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatCompletions_ModelWithoutTransforms_BodyForwardedByteForByte()
    {
        var body = """{ "model" : "gpt-plain", "messages":[{"role":"user","content":"mail a@example.com"}], "logprobs":true }""";

        using var response = await _gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body.Replace("\"gpt-plain\"", "\"gpt-upstream\"", StringComparison.Ordinal), Assert.Single(_openai.LogEntries).RequestMessage!.Body);
    }

    [Theory]
    [InlineData("""{"model":"gpt-test","messages":[{"role":"user","content":"hi"}],"logprobs":true}""", """{"error":{"message":"The parameter 'logprobs' is not allowed by the gateway's policy.","type":"invalid_request_error","param":"logprobs","code":"parameter_not_allowed"}}""")]
    [InlineData("""{"model":"gpt-test","messages":[{"role":"user","content":"Status of project falcon?"}]}""", """{"error":{"message":"The request was rejected by the gateway's content policy (rule 'project-names').","type":"invalid_request_error","param":null,"code":"content_policy_violation"}}""")]
    [InlineData("""{"model":"gpt-test","aigateway":{"template":"translate","variables":{"text":"x"}}}""", """{"error":{"message":"The template 'translate' needs the variable 'language'.","type":"invalid_request_error","param":"aigateway.variables.language","code":"missing_template_variable"}}""")]
    [InlineData("""{"model":"gpt-plain","aigateway":{"template":"translate"},"messages":[]}""", """{"error":{"message":"The template 'translate' does not exist or cannot be used here.","type":"invalid_request_error","param":"aigateway.template","code":"template_not_found"}}""")]
    public async Task ChatCompletions_PolicyViolation_400AndNothingForwarded(string body, string expected)
    {
        using var response = await _gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
        Assert.Empty(_openai.LogEntries);
    }

    [Fact]
    public async Task ChatStream_OutputGuardrailMatches_StreamEndsWithErrorEvent()
    {
        static string Chunk(string content) =>
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-upstream\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + content + "\"},\"finish_reason\":null}]}\n\n";
        _openai.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost().WithBody(b => b != null && b.Contains("\"stream\":true", StringComparison.Ordinal)))
            .AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream")
                .WithBody(Chunk("The code name is ") + Chunk("Project Fal") + Chunk("con, launching soon.") + Chunk(" More.") + "data: [DONE]\n\n"));

        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = ProxyTests.Json("""{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"What is the code name?"}]}"""),
        };
        using var response = await _gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(
            Chunk("The code name is ") + Chunk("Project Fal")
            + "data: {\"error\":{\"message\":\"The answer was stopped by the gateway's content policy (rule 'project-names').\",\"type\":\"server_error\",\"param\":null,\"code\":\"content_policy_violation\"}}\n\n",
            text);
    }

    [Fact]
    public async Task ChatStream_PlaceholderSplitAcrossDeltas_RestoredForTheClient()
    {
        static string Chunk(string content, string finish = "null") =>
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-upstream\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + content + "\"},\"finish_reason\":" + finish + "}]}\n\n";
        _openai.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost().WithBody(b => b != null && b.Contains("\"stream\":true", StringComparison.Ordinal)))
            .AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream")
                .WithBody(Chunk("Sent to [EMA") + Chunk("IL_1") + Chunk("].", "\"stop\"") + "data: [DONE]\n\n"));

        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = ProxyTests.Json("""{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"Mail jane.doe@example.com"}]}"""),
        };
        using var response = await _gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Chunk("Sent to ") + Chunk("") + Chunk("jane.doe@example.com.", "\"stop\"") + "data: [DONE]\n\n", await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain("jane.doe", Assert.Single(_openai.LogEntries).RequestMessage!.Body!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_AliasAndBadTemplate_AliasHotReloadedBadTemplateRejectedWithPath()
    {
        var gpt = _config["models"]!.AsArray().Single(m => (string)m!["name"]! == "gpt-test")!.AsObject();
        gpt["aliases"] = new JsonArray("quick");
        await _gateway.WriteConfigAsync(_config.ToJsonString());
        await WaitUntilAsync(async () =>
        {
            using var r = await _gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"quick","messages":[{"role":"user","content":"hi"}]}"""));
            return r.StatusCode == HttpStatusCode.OK;
        });
        using (var gone = await _gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"fast","messages":[]}""")))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        gpt["promptTransforms"]!["templates"]![0]!["messages"]![0]!["content"] = "Translate into {{language}.";
        await _gateway.WriteConfigAsync(_config.ToJsonString());
        using var admin = _gateway.CreateClient(GatewayInstance.AdminKey);
        await WaitUntilAsync(async () => (await admin.GetStringAsync("admin/v1/config")).Contains("models[1].promptTransforms.templates[0].messages[0].content", StringComparison.Ordinal));
        using var still = await _gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"quick","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }

    private static string Fixture(string name, string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "prompt-transforms", name, file)));
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            document.WriteTo(writer);
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "the config change was not picked up in time");
            await Task.Delay(100);
        }
    }
}
