using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiGateway.FunctionalTests.Infrastructure;
using AiGateway.Tests.RateLimiting;
using AiGateway.Tokens;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AiGateway.FunctionalTests;

public sealed class RateLimitTests : IAsyncLifetime
{
    private const string Usage7 = """{"id":"c","object":"chat.completion","created":1,"model":"gpt-upstream","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""";

    private WireMockServer _openai = null!;

    public Task InitializeAsync()
    {
        _openai = Upstreams.StartWireMock();
        _openai.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .AtPriority(100)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json")
                .WithHeader("x-ratelimit-limit-requests", "10000").WithHeader("x-ratelimit-remaining-requests", "9999")
                .WithBody(Usage7));
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _openai.Stop();
        return Task.CompletedTask;
    }

    private JsonObject Config(JsonObject? keyLimit = null, JsonObject? modelLimit = null, int? contextWindow = null)
    {
        var config = TestConfig.Create(_openai.BaseUrl() + "/v1");
        var gpt = config["models"]!.AsArray().First(m => (string)m!["name"]! == "gpt-test")!.AsObject();
        if (keyLimit is not null) config["auth"]!["keys"]![0]!["rateLimit"] = keyLimit;
        if (modelLimit is not null) gpt["rateLimit"] = modelLimit;
        gpt["contextWindow"] = contextWindow ?? 8192;
        return config;
    }

    private static StringContent Chat(int? maxTokens = null, bool stream = false, string text = "hello") => ProxyTests.Json(
        $$"""{"model":"gpt-test","messages":[{"role":"user","content":"{{text}}"}]{{(maxTokens is { } m ? $",\"max_tokens\":{m}" : "")}}{{(stream ? ",\"stream\":true" : "")}}}""");

    [Fact]
    public async Task RequestsPerMinute_OverLimit_Returns429WithRetryHeaders()
    {
        await using var gateway = await GatewayInstance.StartAsync(Config(keyLimit: new JsonObject { ["requestsPerMinute"] = 2 }).ToJsonString(), TestConfig.Credentials);

        using var first = await gateway.Client.PostAsync("v1/chat/completions", Chat());
        using var second = await gateway.Client.PostAsync("v1/chat/completions", Chat());
        using var third = await gateway.Client.PostAsync("v1/chat/completions", Chat());

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("2", first.Headers.GetValues("x-ratelimit-limit-requests").Single());
        Assert.Equal("1", first.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal("0", second.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        var error = await ErrorTests.AssertErrorAsync(third, 429, null, "rate_limit_exceeded");
        Assert.Equal("requests", error.GetProperty("type").GetString());
        Assert.Contains("key 'alpha'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.InRange(int.Parse(third.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 120);
        Assert.InRange(int.Parse(third.Headers.GetValues("retry-after-ms").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 120_000);
        Assert.Equal(2, _openai.LogEntries.Count());
    }

    [Fact]
    public async Task ModelLimit_IsSharedAcrossKeys_KeyLimitIsNot()
    {
        const string beta = "sk-test-beta-0123456789";
        var config = Config(keyLimit: new JsonObject { ["requestsPerMinute"] = 1 }, modelLimit: new JsonObject { ["requestsPerMinute"] = 2 });
        config["auth"]!["keys"]!.AsArray().Add(new JsonObject { ["name"] = "beta", ["sha256"] = GatewayInstance.Sha256(beta) });
        await using var gateway = await GatewayInstance.StartAsync(config.ToJsonString(), TestConfig.Credentials);
        using var betaClient = gateway.CreateClient(beta);

        using var alpha1 = await gateway.Client.PostAsync("v1/chat/completions", Chat());
        using var alpha2 = await gateway.Client.PostAsync("v1/chat/completions", Chat());
        using var beta1 = await betaClient.PostAsync("v1/chat/completions", Chat());
        using var beta2 = await betaClient.PostAsync("v1/chat/completions", Chat());

        Assert.Equal(HttpStatusCode.OK, alpha1.StatusCode);
        Assert.Contains("key 'alpha'", (await ErrorTests.AssertErrorAsync(alpha2, 429, null, "rate_limit_exceeded")).GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, beta1.StatusCode);
        Assert.Contains("model 'gpt-test'", (await ErrorTests.AssertErrorAsync(beta2, 429, null, "rate_limit_exceeded")).GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, _openai.LogEntries.Count());
    }

    [Fact]
    public async Task Success_CarriesGatewayLimitHeaders_NotTheProviders()
    {
        await using var gateway = await GatewayInstance.StartAsync(Config(keyLimit: new JsonObject { ["requestsPerMinute"] = 50, ["tokensPerMinute"] = 5000 }).ToJsonString(), TestConfig.Credentials);

        using var response = await gateway.Client.PostAsync("v1/chat/completions", Chat(maxTokens: 100));

        Assert.Equal("50", response.Headers.GetValues("x-ratelimit-limit-requests").Single());
        Assert.Equal("49", response.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal("5000", response.Headers.GetValues("x-ratelimit-limit-tokens").Single());
        var remaining = int.Parse(response.Headers.GetValues("x-ratelimit-remaining-tokens").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(remaining, 5000 - 100 - 50, 5000 - 100);
        Assert.Matches("^[0-9.]+(ms|s|m)", response.Headers.GetValues("x-ratelimit-reset-requests").Single());
    }

    [Fact]
    public async Task TokensPerMinute_ReservationIsRefundedWithActualUsage()
    {
        // Each request reserves prompt + 900 tokens; without settlement the second could never fit in 1000.
        await using var gateway = await GatewayInstance.StartAsync(Config(keyLimit: new JsonObject { ["tokensPerMinute"] = 1000 }).ToJsonString(), TestConfig.Credentials);

        using var first = await gateway.Client.PostAsync("v1/chat/completions", Chat(maxTokens: 900));
        using var second = await gateway.Client.PostAsync("v1/chat/completions", Chat(maxTokens: 900));
        using var tooBig = await gateway.Client.PostAsync("v1/chat/completions", Chat(maxTokens: 1000));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var remaining = int.Parse(second.Headers.GetValues("x-ratelimit-remaining-tokens").Single(), System.Globalization.CultureInfo.InvariantCulture);
        var prompt = PromptTokens("hello");
        Assert.Equal(1000 - 7 - (prompt + 900), remaining);
        var error = await ErrorTests.AssertErrorAsync(tooBig, 429, null, "rate_limit_exceeded");
        Assert.Equal("tokens", error.GetProperty("type").GetString());
        Assert.False(tooBig.Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task ContextWindow_PromptPlusMaxTokensTooLarge_Returns400BeforeUpstream()
    {
        await using var gateway = await GatewayInstance.StartAsync(Config(contextWindow: 50).ToJsonString(), TestConfig.Credentials);

        using var response = await gateway.Client.PostAsync("v1/chat/completions", Chat(maxTokens: 45, text: string.Join(' ', Enumerable.Repeat("word", 20))));

        var error = await ErrorTests.AssertErrorAsync(response, 400, "messages", "context_length_exceeded");
        Assert.StartsWith("This model's maximum context length is 50 tokens. However, you requested ", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_openai.LogEntries);
    }

    [Fact]
    public async Task Stream_UsageInjectedUpstream_RemovedForClient_AndSettled()
    {
        var sse = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\n"
            + "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":29,\"total_tokens\":40}}\n\n"
            + "data: [DONE]\n\n";
        _openai.Given(Request.Create().WithPath("/v1/chat/completions").WithBody(b => b!.Contains("\"stream\":true")).UsingPost())
            .AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(sse));
        await using var gateway = await GatewayInstance.StartAsync(Config(keyLimit: new JsonObject { ["tokensPerMinute"] = 10_000 }).ToJsonString(), TestConfig.Credentials);

        using var streamed = await gateway.Client.PostAsync("v1/chat/completions", Chat(maxTokens: 500, stream: true));
        var text = await streamed.Content.ReadAsStringAsync();
        using var next = await gateway.Client.PostAsync("v1/chat/completions", Chat(maxTokens: 100));

        Assert.Equal(sse.Replace("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":29,\"total_tokens\":40}}\n\n", "", StringComparison.Ordinal), text);
        var upstreamBody = _openai.LogEntries.First().RequestMessage!.Body!;
        Assert.StartsWith("{\"stream_options\":{\"include_usage\":true},\"model\":\"gpt-upstream\"", upstreamBody, StringComparison.Ordinal);
        var remaining = int.Parse(next.Headers.GetValues("x-ratelimit-remaining-tokens").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(10_000 - 40 - (PromptTokens("hello") + 100), remaining);
    }

    [Fact]
    public async Task Stream_ClientAskedForUsage_KeepsUsageChunk()
    {
        var sse = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"stop\"}]}\n\n"
            + "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":29,\"total_tokens\":40}}\n\n"
            + "data: [DONE]\n\n";
        _openai.Given(Request.Create().WithPath("/v1/chat/completions").WithBody(b => b!.Contains("\"stream\":true")).UsingPost())
            .AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(sse));
        await using var gateway = await GatewayInstance.StartAsync(Config().ToJsonString(), TestConfig.Credentials);

        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(
            """{"model":"gpt-test","stream":true,"stream_options":{"include_usage":true},"messages":[]}"""));

        Assert.Equal(sse, await response.Content.ReadAsStringAsync());
        Assert.Equal("""{"model":"gpt-upstream","stream":true,"stream_options":{"include_usage":true},"messages":[]}""", _openai.LogEntries.Single().RequestMessage!.Body);
    }

    [Fact]
    public async Task Stream_ClientAborts_SettlesPromptPlusCountedText()
    {
        var words = string.Concat(Enumerable.Repeat("lorem ipsum ", 20));
        await using var upstream = await ScriptedUpstream.StartAsync(async context =>
        {
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            if (!body.Contains("\"stream\":true", StringComparison.Ordinal))
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(Usage7);
                return;
            }
            context.Response.ContentType = "text/event-stream";
            var chunk = "data: " + JsonSerializer.Serialize(new { choices = new[] { new { index = 0, delta = new { content = words } } } }) + "\n\n";
            await context.Response.WriteAsync(chunk);
            await context.Response.Body.FlushAsync();
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
        });
        var config = TestConfig.Create(upstream.BaseUrl);
        config["auth"]!["keys"]![0]!["rateLimit"] = new JsonObject { ["tokensPerMinute"] = 10_000 };
        // The clock stands still ten seconds into a minute: the probes below may take many seconds, and a minute
        // boundary in between rolled the window, so the remaining figure never matched (the test failed now and then).
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 10, TimeSpan.Zero));
        await using var gateway = await GatewayInstance.StartAsync(config.ToJsonString(), b => b.Services.AddSingleton<TimeProvider>(clock), TestConfig.Credentials);

        using (var client = gateway.CreateClient(GatewayInstance.Key))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = Chat(maxTokens: 2000, stream: true) };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await using var stream = await response.Content.ReadAsStreamAsync();
            await stream.ReadAtLeastAsync(new byte[64], 64);
        }

        // The aborted stream settles at prompt + the tokens it delivered, not its 2000-token reservation.
        // Each probe then holds prompt + 100 while it runs and settles at 7.
        var aborted = PromptTokens("hello") + Count(words);
        var probe = PromptTokens("hello") + 100;
        var remaining = -1;
        // Up to 15 s for the settlement itself on a loaded 2-core box.
        for (var k = 0; k < 150; k++)
        {
            using var response = await gateway.Client.PostAsync("v1/chat/completions", Chat(maxTokens: 100));
            remaining = int.Parse(response.Headers.GetValues("x-ratelimit-remaining-tokens").Single(), System.Globalization.CultureInfo.InvariantCulture);
            if (remaining == 10_000 - aborted - 7 * k - probe) return;
            await Task.Delay(100);
        }
        Assert.Fail($"the aborted stream was not settled at {aborted} tokens (last remaining: {remaining})");
    }

    private static int PromptTokens(string text)
    {
        var registry = new TokenizerRegistry();
        return PromptTokenCounter.Count(registry.GetCounter(TokenEncodings.O200kBase), PromptKind.ChatCompletions,
            Encoding.UTF8.GetBytes($$"""{"messages":[{"role":"user","content":"{{text}}"}]}""")).Tokens;
    }

    private static int Count(string text) => new TokenizerRegistry().GetCounter(TokenEncodings.O200kBase).CountTokens(text);
}
