using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using AiGateway.FunctionalTests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace AiGateway.FunctionalTests;

/// <summary>The JSON logs: one line per request with the agreed fields, and no secret or prompt text anywhere.</summary>
public sealed class LoggingTests
{
    private const string Prompt = "PROMPT-MARKER my password is hunter2";
    private const string UpstreamJson = """{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-upstream","choices":[{"index":0,"message":{"role":"assistant","content":"ANSWER-MARKER"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}""";

    [Fact]
    public async Task Requests_OneJsonLinePerRequest_WithoutKeysOrPrompts()
    {
        using var upstream = Upstreams.StartWireMock();
        upstream.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(UpstreamJson));
        JsonLogCapture? capture = null;
        await using var gateway = await GatewayInstance.StartAsync(
            TestConfig.Create(upstream.BaseUrl() + "/v1").ToJsonString(),
            JsonLogCapture.Register(c => capture = c),
            // Everything the gateway and the frameworks log, down to Debug, is searched for secrets.
            [.. TestConfig.Credentials, "--Logging:LogLevel:Default=Debug", "--Logging:LogLevel:AiGateway=Debug", "--Logging:LogLevel:Microsoft=Debug"]);

        var body = $$"""{"model":"gpt-test","messages":[{"role":"user","content":"{{Prompt}}"}]}""";
        using (var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = ProxyTests.Json(body) })
        {
            request.Headers.Add("x-request-id", "log-test-1");
            request.Headers.Add("x-api-key", "sk-extra-header-SECRET");
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using (var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = ProxyTests.Json("""{"model":"echo","stream":true,"messages":[{"role":"user","content":"PROMPT-MARKER two"}]}""") })
        {
            request.Headers.Add("x-request-id", "log-test-2");
            using var response = await gateway.Client.SendAsync(request);
            await response.Content.ReadAsStringAsync();
        }
        using (var anonymous = gateway.CreateClient("sk-wrong-key-SECRET"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("v1/chat/completions", ProxyTests.Json(body))).StatusCode);
        }
        await gateway.Client.GetAsync("healthz");
        await gateway.Client.GetAsync("readyz");
        await gateway.Client.GetAsync("metrics");

        var lines = await WaitForRequestLinesAsync(capture!, 3);
        var requests = lines.Select(l => JsonNode.Parse(l)!).Where(l => l["Category"]!.GetValue<string>() == "AiGateway.Requests").ToList();
        Assert.Equal(3, requests.Count);

        var first = requests.Single(r => r["State"]!["RequestId"]!.GetValue<string>() == "log-test-1");
        Assert.Equal("Information", first["LogLevel"]!.GetValue<string>());
        var state = first["State"]!;
        Assert.Equal("POST", state["Method"]!.GetValue<string>());
        Assert.Equal("/v1/chat/completions", state["Route"]!.GetValue<string>());
        Assert.Equal(200, state["Status"]!.GetValue<int>());
        Assert.Equal("alpha", state["KeyName"]!.GetValue<string>());
        Assert.Equal("gpt-test", state["Model"]!.GetValue<string>());
        Assert.Equal("openai/gpt-upstream", state["Deployment"]!.GetValue<string>());
        Assert.Equal(12, state["InputTokens"]!.GetValue<int>());
        Assert.Equal(3, state["OutputTokens"]!.GetValue<int>());
        Assert.Equal("none", state["Cache"]!.GetValue<string>());
        Assert.Equal(1, state["Attempts"]!.GetValue<int>());
        Assert.True(state["DurationMs"]!.GetValue<double>() > 0);

        var stream = requests.Single(r => r["State"]!["RequestId"]!.GetValue<string>() == "log-test-2")["State"]!;
        Assert.Equal("echo", stream["Model"]!.GetValue<string>());
        Assert.True(stream["TimeToFirstTokenMs"]!.GetValue<double>() >= 0);

        var refused = requests.Single(r => r["State"]!["Status"]!.GetValue<int>() == 401)["State"]!;
        Assert.Null(refused["KeyName"]);
        Assert.Equal(0, refused["Attempts"]!.GetValue<int>());

        Assert.DoesNotContain(lines, l => l.Contains("\"Route\":\"/healthz\"") || l.Contains("\"Route\":\"/readyz\"") || l.Contains("\"Route\":\"/metrics\""));
        foreach (var secret in new[] { GatewayInstance.Key, "sk-wrong-key-SECRET", "sk-extra-header-SECRET", TestConfig.OpenAiKey, "PROMPT-MARKER", "hunter2", "ANSWER-MARKER" })
        {
            Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.Ordinal));
        }
        // Debug logging really was on: the search above covered the frameworks' lines too.
        Assert.Contains(lines, l => l.Contains("\"LogLevel\":\"Debug\""));
    }

    private static async Task<List<string>> WaitForRequestLinesAsync(JsonLogCapture capture, int count)
    {
        // The line is written after the last byte reached the client.
        var waited = Stopwatch.StartNew();
        while (capture.Lines.Count(l => l.Contains("\"Category\":\"AiGateway.Requests\"")) < count && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }
        return [.. capture.Lines];
    }
}
