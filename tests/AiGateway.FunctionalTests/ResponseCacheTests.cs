using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiGateway.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AiGateway.FunctionalTests;

/// <summary>The response cache through the real gateway: a scripted OpenAI upstream counts the calls that reach it.</summary>
public sealed class ResponseCacheTests : IAsyncLifetime
{
    internal const string Json = """{"id":"chatcmpl-7","object":"chat.completion","created":1700000000,"model":"gpt-upstream","choices":[{"index":0,"message":{"role":"assistant","content":"Paris is the capital.","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17},"system_fingerprint":"fp_1"}""";

    internal static readonly string[] StreamChunks =
    [
        """{"id":"chatcmpl-8","object":"chat.completion.chunk","created":1700000001,"model":"gpt-upstream","system_fingerprint":"fp_2","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-8","object":"chat.completion.chunk","created":1700000001,"model":"gpt-upstream","system_fingerprint":"fp_2","choices":[{"index":0,"delta":{"content":"Streamed "},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-8","object":"chat.completion.chunk","created":1700000001,"model":"gpt-upstream","system_fingerprint":"fp_2","choices":[{"index":0,"delta":{"content":"\"answer\"."},"logprobs":null,"finish_reason":null}]}""",
        """{"id":"chatcmpl-8","object":"chat.completion.chunk","created":1700000001,"model":"gpt-upstream","system_fingerprint":"fp_2","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}""",
        """{"id":"chatcmpl-8","object":"chat.completion.chunk","created":1700000001,"model":"gpt-upstream","system_fingerprint":"fp_2","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}""",
    ];

    private const string ToolCall = """{"id":"chatcmpl-9","object":"chat.completion","created":1,"model":"gpt-upstream","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}""";

    private ScriptedUpstream _upstream = null!;
    private int _calls;

    /// <summary>What the upstream answers; by default the JSON completion, or the stream when the request streams.</summary>
    private Func<HttpContext, string, Task>? _respond;

    public async Task InitializeAsync()
    {
        _upstream = await ScriptedUpstream.StartAsync(async context =>
        {
            Interlocked.Increment(ref _calls);
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            if (_respond is not null)
            {
                await _respond(context, body);
                return;
            }
            await RespondAsync(context, body);
        });
    }

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    internal static async Task RespondAsync(HttpContext context, string body)
    {
        if (body.Contains("\"stream\":true", StringComparison.Ordinal))
        {
            context.Response.ContentType = "text/event-stream";
            foreach (var chunk in StreamChunks)
            {
                await context.Response.WriteAsync("data: " + chunk + "\n\n");
                await context.Response.Body.FlushAsync();
            }
            await context.Response.WriteAsync("data: [DONE]\n\n");
            return;
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(Json);
    }

    internal static JsonObject Config(string upstream, JsonObject? cache = null)
    {
        var config = TestConfig.Create(upstream);
        // Upstream calls are counted exactly; retries are the resilience tests' business.
        config["resilience"] = new JsonObject { ["maxAttempts"] = 1 };
        foreach (var model in config["models"]!.AsArray())
        {
            model!["cache"] = cache?.DeepClone() ?? new JsonObject { ["enabled"] = true };
        }
        var keys = config["auth"]!["keys"]!.AsArray();
        keys[0]!["team"] = "red";
        keys.Add(new JsonObject { ["name"] = "red-2", ["team"] = "red", ["sha256"] = GatewayInstance.Sha256(RedTwoKey) });
        keys.Add(new JsonObject { ["name"] = "blue", ["team"] = "blue", ["sha256"] = GatewayInstance.Sha256(BlueKey) });
        return config;
    }

    internal const string RedTwoKey = "sk-test-red-two-0123456789";
    internal const string BlueKey = "sk-test-blue-0123456789";

    private Task<GatewayInstance> StartAsync(JsonObject? cache = null) =>
        GatewayInstance.StartAsync(Config(_upstream.BaseUrl, cache).ToJsonString(), TestConfig.Credentials);

    internal static async Task<(HttpResponseMessage Response, string Body)> PostAsync(HttpClient client, string body, string path = "v1/chat/completions", params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = ProxyTests.Json(body) };
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        var response = await client.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Waits until the gateway has finished <paramref name="writes"/> background cache stores in all: an answer
    /// reaches the client just before its entry is stored, so a request sent at once could miss it.
    /// </summary>
    internal static async Task StoredAsync(GatewayInstance gateway, long writes = 1)
    {
        var store = gateway.Services.GetRequiredService<AiGateway.Caching.ResponseCacheStore>();
        for (var i = 0; i < 500 && store.WritesFinished < writes; i++) await Task.Delay(10);
        Assert.True(store.WritesFinished >= writes, $"Only {store.WritesFinished} of {writes} cache stores finished.");
    }

    internal static string CacheStatus(HttpResponseMessage response) =>
        response.Headers.TryGetValues("x-gateway-cache", out var values) ? values.Single() : "(none)";

    private const string Question = """{"model":"gpt-test","temperature":0,"messages":[{"role":"user","content":"Capital of France?"}]}""";

    [Fact]
    public async Task Chat_SameRequestTwice_MissThenHitFromOneUpstreamCall()
    {
        await using var gateway = await StartAsync();

        var (miss, missBody) = await PostAsync(gateway.Client, Question);
        await StoredAsync(gateway);
        var (hit, hitBody) = await PostAsync(gateway.Client, Question);

        Assert.Equal(HttpStatusCode.OK, hit.StatusCode);
        Assert.Equal("MISS", CacheStatus(miss));
        Assert.Equal("HIT", CacheStatus(hit));
        Assert.Equal(Json, missBody);
        Assert.Equal(Json, hitBody);
        Assert.Equal("application/json", hit.Content.Headers.ContentType!.MediaType);
        Assert.Equal(miss.Headers.GetValues("x-gateway-cache-key").Single(), hit.Headers.GetValues("x-gateway-cache-key").Single());
        Assert.Matches("^[0-9a-f]{64}$", hit.Headers.GetValues("x-gateway-cache-key").Single());
        Assert.NotNull(hit.Headers.Age);
        Assert.Equal(1, _calls);
    }

    [Fact]
    public async Task Key_MemberOrderWhitespaceNumberSpellingStreamAndUser_DoNotMatter()
    {
        await using var gateway = await StartAsync();
        await PostAsync(gateway.Client, Question);
        await StoredAsync(gateway);

        var (reordered, _) = await PostAsync(gateway.Client, """
            {
              "messages" : [ { "content" : "Capital of France?", "role" : "user" } ],
              "user" : "someone", "temperature" : 0.0, "model" : "gpt-test"
            }
            """);
        var (streamFalse, _) = await PostAsync(gateway.Client, """{"stream":false,"model":"gpt-test","temperature":0e0,"messages":[{"role":"user","content":"Capital of France?"}]}""");
        var (otherText, _) = await PostAsync(gateway.Client, """{"model":"gpt-test","temperature":0,"messages":[{"role":"user","content":"Capital of Spain?"}]}""");
        var (otherSampling, _) = await PostAsync(gateway.Client, """{"model":"gpt-test","temperature":0,"max_tokens":5,"messages":[{"role":"user","content":"Capital of France?"}]}""");

        Assert.Equal("HIT", CacheStatus(reordered));
        Assert.Equal("HIT", CacheStatus(streamFalse));
        Assert.Equal("MISS", CacheStatus(otherText));
        Assert.Equal("MISS", CacheStatus(otherSampling));
        Assert.Equal(3, _calls);
    }

    [Fact]
    public async Task NonDeterministicRequest_IsBypassed_UnlessConfigOptsIn()
    {
        const string sampled = """{"model":"gpt-test","messages":[{"role":"user","content":"Tell me a story"}]}""";
        await using (var gateway = await StartAsync())
        {
            var (first, _) = await PostAsync(gateway.Client, sampled);
            var (second, _) = await PostAsync(gateway.Client, sampled);
            Assert.Equal("BYPASS", CacheStatus(first));
            Assert.Equal("BYPASS", CacheStatus(second));
            Assert.False(first.Headers.Contains("x-gateway-cache-key"));
            Assert.Equal(2, _calls);

            var (seeded, _) = await PostAsync(gateway.Client, """{"model":"gpt-test","seed":42,"messages":[{"role":"user","content":"Tell me a story"}]}""");
            Assert.Equal("MISS", CacheStatus(seeded));
        }

        await using (var gateway = await StartAsync(new JsonObject { ["enabled"] = true, ["deterministicOnly"] = false }))
        {
            await PostAsync(gateway.Client, sampled);
            var (second, _) = await PostAsync(gateway.Client, sampled);
            Assert.Equal("HIT", CacheStatus(second));
        }
    }

    [Fact]
    public async Task ModelWithoutCache_GetsNoCacheHeader()
    {
        var config = TestConfig.Create(_upstream.BaseUrl);
        await using var gateway = await GatewayInstance.StartAsync(config.ToJsonString(), TestConfig.Credentials);

        var (response, _) = await PostAsync(gateway.Client, Question);
        await PostAsync(gateway.Client, Question);

        Assert.Equal("(none)", CacheStatus(response));
        Assert.Equal(2, _calls);
    }

    [Fact]
    public async Task NoCache_SkipsLookupAndRefreshesTheEntry()
    {
        await using var gateway = await StartAsync();
        await PostAsync(gateway.Client, Question);
        _respond = (context, _) =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(Json.Replace("Paris is the capital.", "Paris, still.", StringComparison.Ordinal));
        };

        var (refresh, refreshBody) = await PostAsync(gateway.Client, Question, headers: ("Cache-Control", "no-cache"));
        var (hit, hitBody) = await PostAsync(gateway.Client, Question);

        Assert.Equal("REFRESH", CacheStatus(refresh));
        Assert.Contains("Paris, still.", refreshBody, StringComparison.Ordinal);
        // The refreshed entry is written in the background, just after the answer went out.
        for (var i = 0; i < 50 && !hitBody.Contains("Paris, still.", StringComparison.Ordinal); i++)
        {
            await Task.Delay(20);
            (hit, hitBody) = await PostAsync(gateway.Client, Question);
        }
        Assert.Equal("HIT", CacheStatus(hit));
        Assert.Contains("Paris, still.", hitBody, StringComparison.Ordinal);
        Assert.Equal(2, _calls);
    }

    [Fact]
    public async Task NoStore_ServesAHitButNeverStores()
    {
        await using var gateway = await StartAsync();

        var (first, _) = await PostAsync(gateway.Client, Question, headers: ("Cache-Control", "no-store"));
        var (second, _) = await PostAsync(gateway.Client, Question, headers: ("Cache-Control", "no-store"));
        Assert.Equal("MISS", CacheStatus(first));
        Assert.Equal("MISS", CacheStatus(second)); // the first stored nothing
        Assert.Equal(2, _calls);

        await PostAsync(gateway.Client, Question);
        await StoredAsync(gateway);
        var (third, _) = await PostAsync(gateway.Client, Question, headers: ("Cache-Control", "no-store"));
        var (both, _) = await PostAsync(gateway.Client, Question, headers: ("Cache-Control", "no-cache, no-store"));

        Assert.Equal("HIT", CacheStatus(third));
        Assert.Equal("BYPASS", CacheStatus(both));
        Assert.Equal(4, _calls);
    }

    [Fact]
    public async Task TtlHeader_ShortensTheEntry_AndIsBounded()
    {
        await using var gateway = await StartAsync(new JsonObject { ["enabled"] = true, ["ttl"] = "00:10:00" });

        await PostAsync(gateway.Client, Question, headers: ("x-gateway-cache-ttl", "1"));
        await StoredAsync(gateway);
        var (hit, _) = await PostAsync(gateway.Client, Question);
        await Task.Delay(1500);
        var (expired, _) = await PostAsync(gateway.Client, Question);
        var (invalid, invalidBody) = await PostAsync(gateway.Client, Question, headers: ("x-gateway-cache-ttl", "999999999"));

        Assert.Equal("HIT", CacheStatus(hit));
        Assert.Equal("MISS", CacheStatus(expired));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("x-gateway-cache-ttl", invalidBody, StringComparison.Ordinal);
        Assert.Equal(2, _calls);
    }

    [Fact]
    public async Task Tenants_AreIsolatedByTeam_UnlessScopeIsShared()
    {
        await using (var gateway = await StartAsync())
        {
            using var redTwo = gateway.CreateClient(RedTwoKey);
            using var blue = gateway.CreateClient(BlueKey);
            await PostAsync(gateway.Client, Question);
            await StoredAsync(gateway);

            var (sameTeam, _) = await PostAsync(redTwo, Question);
            var (otherTeam, _) = await PostAsync(blue, Question);

            Assert.Equal("HIT", CacheStatus(sameTeam));
            Assert.Equal("MISS", CacheStatus(otherTeam));
            Assert.Equal(2, _calls);
        }

        await using (var gateway = await StartAsync(new JsonObject { ["enabled"] = true, ["scope"] = "key" }))
        {
            using var redTwo = gateway.CreateClient(RedTwoKey);
            await PostAsync(gateway.Client, Question);
            var (sameTeamOtherKey, _) = await PostAsync(redTwo, Question);
            Assert.Equal("MISS", CacheStatus(sameTeamOtherKey));
        }

        await using (var gateway = await StartAsync(new JsonObject { ["enabled"] = true, ["scope"] = "shared" }))
        {
            using var blue = gateway.CreateClient(BlueKey);
            await PostAsync(gateway.Client, Question);
            await StoredAsync(gateway);
            var (otherTeam, _) = await PostAsync(blue, Question);
            Assert.Equal("HIT", CacheStatus(otherTeam));
        }
    }

    [Fact]
    public async Task StreamedHit_FromJsonAnswer_IsReplayedAsExactSse()
    {
        await using var gateway = await StartAsync();
        await PostAsync(gateway.Client, Question);
        await StoredAsync(gateway);

        var (withUsage, withUsageBody) = await PostAsync(gateway.Client, """{"model":"gpt-test","temperature":0,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Capital of France?"}]}""");
        var (plain, plainBody) = await PostAsync(gateway.Client, """{"model":"gpt-test","temperature":0,"stream":true,"messages":[{"role":"user","content":"Capital of France?"}]}""");

        Assert.Equal("HIT", CacheStatus(withUsage));
        Assert.Equal("text/event-stream", withUsage.Content.Headers.ContentType!.MediaType);
        const string head = "{\"id\":\"chatcmpl-7\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-upstream\",\"system_fingerprint\":\"fp_1\",\"choices\":[";
        Assert.Equal(
            "data: " + head + "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n" +
            "data: " + head + "{\"index\":0,\"delta\":{\"content\":\"Paris is the capital.\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n" +
            "data: " + head + "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n" +
            "data: " + head + "],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5,\"total_tokens\":17}}\n\n" +
            "data: [DONE]\n\n",
            withUsageBody);
        Assert.Equal(
            "data: " + head + "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n" +
            "data: " + head + "{\"index\":0,\"delta\":{\"content\":\"Paris is the capital.\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n" +
            "data: " + head + "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n" +
            "data: [DONE]\n\n",
            plainBody);
        Assert.Equal("HIT", CacheStatus(plain));
        Assert.Equal(1, _calls);
    }

    [Fact]
    public async Task JsonHit_FromStreamedAnswer_IsTheAssembledCompletion()
    {
        await using var gateway = await StartAsync();
        var (miss, missBody) = await PostAsync(gateway.Client, """{"model":"gpt-test","temperature":0,"stream":true,"messages":[{"role":"user","content":"Say it"}]}""");
        await StoredAsync(gateway);

        var (hit, hitBody) = await PostAsync(gateway.Client, """{"model":"gpt-test","temperature":0,"messages":[{"role":"user","content":"Say it"}]}""");

        Assert.Equal("MISS", CacheStatus(miss));
        Assert.EndsWith("data: [DONE]\n\n", missBody, StringComparison.Ordinal);
        Assert.Equal("HIT", CacheStatus(hit));
        Assert.Equal(
            """{"id":"chatcmpl-8","object":"chat.completion","created":1700000001,"model":"gpt-upstream","choices":[{"index":0,"message":{"role":"assistant","content":"Streamed \"answer\".","refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12},"system_fingerprint":"fp_2"}""",
            hitBody);
        Assert.Equal(1, _calls);
    }

    [Fact]
    public async Task Stampede_100ConcurrentIdenticalMisses_MakeOneUpstreamCall()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _respond = async (context, body) =>
        {
            await release.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await RespondAsync(context, body);
        };
        await using var gateway = await StartAsync();
        var body = """{"model":"gpt-test","temperature":0,"messages":[{"role":"user","content":"Everyone asks this"}]}""";

        using var start = new SemaphoreSlim(0);
        var tasks = Enumerable.Range(0, 100).Select(async i =>
        {
            await start.WaitAsync();
            // Half of them stream: they wait for the same entry and get it replayed.
            var stream = i % 2 == 1 ? "\"stream\":true," : "";
            var (response, text) = await PostAsync(gateway.Client, body.Replace("{\"model\"", "{" + stream + "\"model\"", StringComparison.Ordinal));
            return (response.StatusCode, Status: CacheStatus(response), Text: text, Stream: stream.Length > 0);
        }).ToArray();
        start.Release(100);
        while (Volatile.Read(ref _calls) == 0) await Task.Delay(10);
        await Task.Delay(300);
        release.SetResult();
        var results = await Task.WhenAll(tasks);

        Assert.Equal(1, _calls);
        Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(1, results.Count(r => r.Status == "MISS"));
        Assert.Equal(99, results.Count(r => r.Status == "HIT"));
        // Whichever came first, JSON or stream, every waiter got that one answer in its own format.
        Assert.Single(results.Where(r => !r.Stream && r.Status == "HIT").Select(r => r.Text).Distinct());
        Assert.Single(results.Where(r => r.Stream && r.Status == "HIT").Select(r => r.Text).Distinct());
        Assert.All(results.Where(r => r.Stream), r => Assert.EndsWith("data: [DONE]\n\n", r.Text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ToolCallsAndErrors_AreNeverStored()
    {
        await using var gateway = await StartAsync();
        _respond = (context, _) =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(ToolCall);
        };
        await PostAsync(gateway.Client, Question);
        var (tool, _) = await PostAsync(gateway.Client, Question);

        _respond = (context, _) =>
        {
            context.Response.StatusCode = 500;
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync("""{"error":{"message":"boom","type":"server_error","param":null,"code":null}}""");
        };
        const string other = """{"model":"gpt-test","temperature":0,"messages":[{"role":"user","content":"fail"}]}""";
        await PostAsync(gateway.Client, other);
        var (error, _) = await PostAsync(gateway.Client, other);

        Assert.Equal("MISS", CacheStatus(tool));
        Assert.Equal(HttpStatusCode.InternalServerError, error.StatusCode);
        Assert.Equal("MISS", CacheStatus(error));
        Assert.Equal(4, _calls);
    }

    [Fact]
    public async Task Embeddings_AreCached()
    {
        _respond = (context, _) =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync("""{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"embed-upstream","usage":{"prompt_tokens":2,"total_tokens":2}}""");
        };
        await using var gateway = await StartAsync();

        await PostAsync(gateway.Client, """{"model":"embed-test","input":"hello"}""", "v1/embeddings");
        await StoredAsync(gateway);
        var (hit, body) = await PostAsync(gateway.Client, """{"input":"hello","model":"embed-test"}""", "v1/embeddings");

        Assert.Equal("HIT", CacheStatus(hit));
        Assert.Contains("\"embedding\":[0.1,0.2]", body, StringComparison.Ordinal);
        Assert.Equal(1, _calls);
    }

    [Fact]
    public async Task MockModel_IsCachedToo()
    {
        await using var gateway = await StartAsync();
        const string echo = """{"model":"echo","temperature":0,"messages":[{"role":"user","content":"cache me"}]}""";

        var (miss, missBody) = await PostAsync(gateway.Client, echo);
        await StoredAsync(gateway);
        var (hit, hitBody) = await PostAsync(gateway.Client, echo);

        Assert.Equal("MISS", CacheStatus(miss));
        Assert.Equal("HIT", CacheStatus(hit));
        Assert.Equal(missBody, hitBody);
    }

    [Fact]
    public async Task Hit_CountsTowardRequestLimits_AndRefundsTokens()
    {
        var config = Config(_upstream.BaseUrl);
        config["auth"]!["keys"]![0]!["rateLimit"] = new JsonObject { ["requestsPerMinute"] = 3, ["tokensPerMinute"] = 100_000 };
        await using var gateway = await GatewayInstance.StartAsync(config.ToJsonString(), TestConfig.Credentials);

        var (miss, _) = await PostAsync(gateway.Client, Question);
        await StoredAsync(gateway);
        var (hit, _) = await PostAsync(gateway.Client, Question);
        var (hit2, _) = await PostAsync(gateway.Client, Question);
        var (limited, _) = await PostAsync(gateway.Client, Question);

        Assert.Equal("HIT", CacheStatus(hit));
        Assert.Equal("1", hit.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        // The miss settled its 17 real tokens; each hit reserved its estimate and was refunded whole, so
        // the second hit sees the same remaining tokens as the first.
        Assert.Equal(hit.Headers.GetValues("x-ratelimit-remaining-tokens").Single(), hit2.Headers.GetValues("x-ratelimit-remaining-tokens").Single());
        Assert.Equal(1, _calls);
    }

    [Fact]
    public async Task AdminPurge_ByKeyByModelAndEverything()
    {
        await using var gateway = await StartAsync();
        using var admin = gateway.CreateClient(GatewayInstance.AdminKey);
        const string echo = """{"model":"echo","temperature":0,"messages":[{"role":"user","content":"purge me"}]}""";

        var (first, _) = await PostAsync(gateway.Client, Question);
        await StoredAsync(gateway, 1);
        var key = first.Headers.GetValues("x-gateway-cache-key").Single();
        using (var purge = await admin.DeleteAsync($"admin/v1/cache/entries/{key}"))
        {
            Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
        }
        Assert.Equal("MISS", CacheStatus((await PostAsync(gateway.Client, Question)).Response));

        await PostAsync(gateway.Client, echo);
        await StoredAsync(gateway, 3);
        using (var purge = await admin.DeleteAsync("admin/v1/cache/models/gpt-test"))
        {
            Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
            Assert.Equal("""{"purged":"model","target":"gpt-test"}""", await purge.Content.ReadAsStringAsync());
        }
        Assert.Equal("MISS", CacheStatus((await PostAsync(gateway.Client, Question)).Response));
        Assert.Equal("HIT", CacheStatus((await PostAsync(gateway.Client, echo)).Response));
        await StoredAsync(gateway, 4);

        using (var purge = await admin.DeleteAsync("admin/v1/cache"))
        {
            Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
        }
        Assert.Equal("MISS", CacheStatus((await PostAsync(gateway.Client, Question)).Response));
        Assert.Equal("MISS", CacheStatus((await PostAsync(gateway.Client, echo)).Response));

        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Client.DeleteAsync("admin/v1/cache")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.DeleteAsync("admin/v1/cache/entries/not-a-key")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync("admin/v1/cache/models/nope")).StatusCode);
    }
}
