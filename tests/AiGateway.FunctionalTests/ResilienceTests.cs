using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using AiGateway.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace AiGateway.FunctionalTests;

public sealed class ResilienceTests : IAsyncLifetime
{
    private const string Ok = """{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""";
    private const string Chat = """{"model":"primary","messages":[{"role":"user","content":"hi"}]}""";

    private WireMockServer _a = null!;
    private WireMockServer _b = null!;

    public Task InitializeAsync()
    {
        _a = Upstreams.StartWireMock();
        _b = Upstreams.StartWireMock();
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _a.Stop();
        _b.Stop();
        return Task.CompletedTask;
    }

    /// <summary>Model "primary" on cluster a (deployment "a/up-a"), model "backup" on cluster b; optional extra deployment of primary on b.</summary>
    private JsonObject Config(bool primaryOnBoth = false, JsonObject? resilience = null, JsonArray? fallbacks = null, string? aAddress = null, string? bAddress = null)
    {
        var config = TestConfig.Create();
        var clusters = config["clusters"]!.AsObject();
        clusters["a"] = new JsonObject { ["provider"] = "openai", ["destinations"] = new JsonObject { ["d"] = new JsonObject { ["address"] = aAddress ?? _a.BaseUrl() + "/v1" } } };
        clusters["b"] = new JsonObject { ["provider"] = "openai", ["destinations"] = new JsonObject { ["d"] = new JsonObject { ["address"] = bAddress ?? _b.BaseUrl() + "/v1" } } };
        var deployments = new JsonArray { new JsonObject { ["cluster"] = "a", ["model"] = "up-a" } };
        if (primaryOnBoth) deployments.Add(new JsonObject { ["cluster"] = "b", ["model"] = "up-b", ["priority"] = 1 });
        var models = config["models"]!.AsArray();
        models.Add(new JsonObject { ["name"] = "primary", ["deployments"] = deployments, ["fallbacks"] = fallbacks ?? new JsonArray() });
        models.Add(new JsonObject { ["name"] = "backup", ["deployments"] = new JsonArray { new JsonObject { ["cluster"] = "b", ["model"] = "up-b" } } });
        if (resilience is not null) config["resilience"] = resilience;
        return config;
    }

    private static void Respond(WireMockServer server, int status, string body = Ok, string? retryAfterMs = null, int priority = 100, string? state = null, string? nextState = null)
    {
        var response = Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(status == 200 ? body : """{"error":{"message":"busy","type":"server_error","param":null,"code":null}}""");
        if (retryAfterMs is not null) response = response.WithHeader("retry-after-ms", retryAfterMs);
        var request = server.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost()).AtPriority(priority);
        if (state is not null) request = request.InScenario("s").WhenStateIs(state);
        if (nextState is not null) request = request.InScenario("s").WillSetStateTo(nextState);
        request.RespondWith(response);
    }

    [Fact]
    public async Task RateLimited_ThenOk_RetriesSameDeploymentAfterRetryAfter()
    {
        _a.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost()).InScenario("s").WillSetStateTo("limited")
            .RespondWith(Response.Create().WithStatusCode(429).WithHeader("retry-after-ms", "1500").WithBody("""{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}"""));
        _a.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost()).InScenario("s").WhenStateIs("limited")
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(Ok));
        var fake = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await GatewayInstance.StartAsync(Config().ToJsonString(), b => b.Services.AddSingleton<TimeProvider>(fake));

        var pending = gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Chat));
        await WaitForCallsAsync(_a, 1);
        await Task.Delay(300);
        Assert.Single(_a.LogEntries);        // still waiting: the provider asked for 1.5 s
        fake.Advance(TimeSpan.FromMilliseconds(1400));
        await Task.Delay(300);
        Assert.Single(_a.LogEntries);
        fake.Advance(TimeSpan.FromMilliseconds(200));
        using var response = await pending.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Ok, await response.Content.ReadAsStringAsync());
        Assert.Equal("2", response.Headers.GetValues("x-gateway-attempts").Single());
        Assert.Equal("a/up-a", response.Headers.GetValues("x-gateway-deployment").Single());
        Assert.False(response.Headers.Contains("x-gateway-fallback"));
        Assert.Equal(2, _a.LogEntries.Count());
    }

    [Fact]
    public async Task ServiceUnavailable_FallsBackToAnotherModelAndProvider()
    {
        Respond(_a, 503);
        Respond(_b, 200);
        await using var gateway = await GatewayInstance.StartAsync(Config(fallbacks: new JsonArray("backup")).ToJsonString());

        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Chat));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("x-gateway-fallback").Single());
        Assert.Equal("b/up-b", response.Headers.GetValues("x-gateway-deployment").Single());
        Assert.Equal("2", response.Headers.GetValues("x-gateway-attempts").Single());
        Assert.Contains("\"model\":\"up-b\"", _b.LogEntries.Single().RequestMessage!.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServiceUnavailable_TriesTheModelsOtherDeploymentFirst()
    {
        Respond(_a, 503);
        Respond(_b, 200);
        await using var gateway = await GatewayInstance.StartAsync(Config(primaryOnBoth: true).ToJsonString());

        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Chat));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("b/up-b", response.Headers.GetValues("x-gateway-deployment").Single());
        Assert.False(response.Headers.Contains("x-gateway-fallback"));
        Assert.Single(_a.LogEntries);
    }

    [Fact]
    public async Task BadRequest_IsNeverRetried()
    {
        _a.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(400).WithHeader("Content-Type", "application/json").WithBody("""{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}"""));
        Respond(_b, 200);
        await using var gateway = await GatewayInstance.StartAsync(Config(primaryOnBoth: true, fallbacks: new JsonArray("backup")).ToJsonString());

        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Chat));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("1", response.Headers.GetValues("x-gateway-attempts").Single());
        Assert.Single(_a.LogEntries);
        Assert.Empty(_b.LogEntries);
    }

    [Fact]
    public async Task Breaker_OpensAfterFailures_SkipsDeployment_ThenHalfOpenProbeRecovers()
    {
        Respond(_a, 500);
        Respond(_b, 200);
        var fake = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var resilience = new JsonObject { ["maxAttempts"] = 1, ["breaker"] = new JsonObject { ["consecutiveFailures"] = 2, ["breakDuration"] = "00:01:00" } };
        await using var gateway = await GatewayInstance.StartAsync(Config(primaryOnBoth: true, resilience: resilience).ToJsonString(), b => b.Services.AddSingleton<TimeProvider>(fake));

        // Priority keeps traffic on a (tier 0) until its breaker opens.
        Assert.Equal(HttpStatusCode.InternalServerError, (await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Chat))).StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, (await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Chat))).StatusCode);
        for (var i = 0; i < 3; i++)
        {
            using var skipped = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Chat));
            Assert.Equal(HttpStatusCode.OK, skipped.StatusCode);
            Assert.Equal("b/up-b", skipped.Headers.GetValues("x-gateway-deployment").Single());
        }
        Assert.Equal(2, _a.LogEntries.Count());

        // After the break, one probe goes to a; it succeeds, so a takes traffic again.
        _a.ResetMappings();
        Respond(_a, 200);
        fake.Advance(TimeSpan.FromMinutes(1));
        using var probe = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Chat));
        using var after = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Chat));

        Assert.Equal("a/up-a", probe.Headers.GetValues("x-gateway-deployment").Single());
        Assert.Equal("a/up-a", after.Headers.GetValues("x-gateway-deployment").Single());
        Assert.Equal(4, _a.LogEntries.Count());
    }

    [Fact]
    public async Task FirstTokenDeadline_Missed_NextDeploymentAnswers()
    {
        await using var slow = await ScriptedUpstream.StartAsync(async context =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
        });
        Respond(_b, 200);
        var config = Config(primaryOnBoth: true, aAddress: slow.BaseUrl);
        config["models"]!.AsArray().First(m => (string)m!["name"]! == "primary")!["resilience"] = new JsonObject { ["firstTokenTimeout"] = "00:00:00.500" };
        await using var gateway = await GatewayInstance.StartAsync(config.ToJsonString());

        var watch = Stopwatch.StartNew();
        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Chat));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("b/up-b", response.Headers.GetValues("x-gateway-deployment").Single());
        Assert.Equal("2", response.Headers.GetValues("x-gateway-attempts").Single());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Theory]
    [InlineData(false, "firstTokenTimeout", 504, "upstream_timeout")]
    [InlineData(false, "activityTimeout", 504, "upstream_timeout")]
    [InlineData(true, "firstTokenTimeout", 504, "upstream_timeout")]
    [InlineData(false, "breaks", 502, "upstream_error")]
    public async Task LastAttempt_UpstreamFailsAfterHeadersBeforeAnyByte_ClientGetsAnError(bool stream, string failure, int status, string code)
    {
        // The upstream sends its headers, then nothing (or breaks off). Nothing reached the client yet, so the last
        // attempt ends in an error the client can read, not a cut connection.
        await using var upstream = await ScriptedUpstream.StartAsync(async context =>
        {
            await new StreamReader(context.Request.Body).ReadToEndAsync();
            context.Response.ContentType = stream ? "text/event-stream" : "application/json";
            if (!stream) context.Response.ContentLength = Ok.Length;
            await context.Response.StartAsync();
            await context.Response.Body.FlushAsync();
            if (failure == "breaks")
            {
                await Task.Delay(100);
                context.Abort();
                return;
            }
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
        });
        var config = Config(aAddress: upstream.BaseUrl);
        var primary = config["models"]!.AsArray().First(m => (string)m!["name"]! == "primary")!;
        primary["resilience"] = new JsonObject { ["maxAttempts"] = 1 };
        if (failure == "firstTokenTimeout") primary["resilience"]!["firstTokenTimeout"] = "00:00:00.300";
        if (failure == "activityTimeout") config["clusters"]!["a"]!["activityTimeout"] = "00:00:00.300";
        await using var gateway = await GatewayInstance.StartAsync(config.ToJsonString());

        var body = stream ? """{"model":"primary","stream":true,"messages":[{"role":"user","content":"hi"}]}""" : Chat;
        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(body));

        await ErrorTests.AssertErrorAsync(response, status, null, code);
        Assert.Equal("1", response.Headers.GetValues("x-gateway-attempts").Single());
    }

    [Fact]
    public async Task StreamStallsAfterFirstChunk_EndsWithErrorEvent_NoRetry()
    {
        var calls = 0;
        await using var upstream = await ScriptedUpstream.StartAsync(async context =>
        {
            Interlocked.Increment(ref calls);
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n");
            await context.Response.Body.FlushAsync();
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
        });
        var config = Config(primaryOnBoth: true, aAddress: upstream.BaseUrl);
        config["clusters"]!["a"]!["activityTimeout"] = "00:00:00.500";
        Respond(_b, 200);
        await using var gateway = await GatewayInstance.StartAsync(config.ToJsonString());

        var watch = Stopwatch.StartNew();
        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"primary","stream":true,"messages":[]}"""));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: {\"error\":{", text, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"upstream_timeout\"", text, StringComparison.Ordinal);
        Assert.EndsWith("\n\n", text, StringComparison.Ordinal);
        Assert.Equal(1, calls);
        Assert.Empty(_b.LogEntries);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task AlwaysFailing_IsBoundedInAttemptsAndTime()
    {
        Respond(_a, 503);
        var resilience = new JsonObject { ["maxAttempts"] = 10, ["maxRetryDuration"] = "00:00:01", ["baseDelay"] = "00:00:00.300" };
        await using var gateway = await GatewayInstance.StartAsync(Config(resilience: resilience).ToJsonString());

        var watch = Stopwatch.StartNew();
        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Chat));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        await ErrorTests.AssertErrorAsync(response, 503, null, null);
        var attempts = int.Parse(response.Headers.GetValues("x-gateway-attempts").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(attempts, 2, 4);
        Assert.Equal(attempts, _a.LogEntries.Count());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Unreachable_ThenBackupAnswers()
    {
        Respond(_b, 200);
        var config = Config(fallbacks: new JsonArray("backup"), aAddress: $"http://127.0.0.1:{GatewayInstance.FreePort()}/v1");
        await using var gateway = await GatewayInstance.StartAsync(config.ToJsonString());

        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Chat));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("x-gateway-fallback").Single());
    }

    [Fact]
    public async Task PassiveHealth_DeadDestination_LeavesRotationAfterFailures()
    {
        Respond(_a, 200);
        var config = Config();
        config["clusters"]!["a"]!["destinations"]!["dead"] = new JsonObject { ["address"] = $"http://127.0.0.1:{GatewayInstance.FreePort()}/v1" };
        await using var gateway = await GatewayInstance.StartAsync(config.ToJsonString());

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Chat));
            statuses.Add(response.StatusCode);
        }
        var lastAttempts = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Chat));
            lastAttempts.Add(response.Headers.GetValues("x-gateway-attempts").Single());
        }

        // Retries hide the dead destination from clients; once marked unhealthy it is not tried at all.
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.All(lastAttempts, a => Assert.Equal("1", a));
    }

    [Fact]
    public async Task PassiveHealth_ClientsLeavingMidStream_DoNotTakeTheDestinationOutOfRotation()
    {
        // The stop button of a chat UI: the client reads the first chunk and goes. That says nothing about the
        // destination, so leaving more often than the failure threshold must not take it out of rotation.
        await using var upstream = await ScriptedUpstream.StartAsync(async context =>
        {
            var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
            if (!body.Contains("\"stream\":true", StringComparison.Ordinal))
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(Ok);
                return;
            }
            if (body.Contains("slow", StringComparison.Ordinal))
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            }
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n");
            await context.Response.Body.FlushAsync();
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
        });
        await using var gateway = await GatewayInstance.StartAsync(Config(aAddress: upstream.BaseUrl).ToJsonString());

        for (var i = 0; i < GatewayPassiveHealthPolicyThreshold + 2; i++)
        {
            using var client = gateway.CreateClient(GatewayInstance.Key);
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = ProxyTests.Json("""{"model":"primary","stream":true,"messages":[{"role":"user","content":"hi"}]}""") };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var stream = await response.Content.ReadAsStreamAsync();
            await stream.ReadAtLeastAsync(new byte[16], 16);
        }
        // A client that leaves while the gateway still waits for the upstream's first byte says nothing either.
        for (var i = 0; i < GatewayPassiveHealthPolicyThreshold + 2; i++)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));
            using var client = gateway.CreateClient(GatewayInstance.Key);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"primary","stream":true,"messages":[{"role":"user","content":"slow"}]}"""), cts.Token));
        }
        using var next = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Chat));

        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal("1", next.Headers.GetValues("x-gateway-attempts").Single());
        var proxyState = gateway.Services.GetRequiredService<Yarp.ReverseProxy.IProxyStateLookup>();
        Assert.All(proxyState.GetClusters().SelectMany(c => c.Destinations.Values), d => Assert.NotEqual(Yarp.ReverseProxy.Model.DestinationHealth.Unhealthy, d.Health.Passive));
    }

    [Fact]
    public async Task PassiveHealth_UpstreamBreakingOffMidAnswer_CountsAsAFailure()
    {
        // The gateway cuts a JSON answer whose upstream went silent half-way; the cut aborts the client's connection
        // too, yet it is the destination's failure, not a client that left.
        await using var upstream = await ScriptedUpstream.StartAsync(async context =>
        {
            await new StreamReader(context.Request.Body).ReadToEndAsync();
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = Ok.Length;
            await context.Response.WriteAsync(Ok[..20]);
            await context.Response.Body.FlushAsync();
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
        });
        var config = Config(aAddress: upstream.BaseUrl);
        config["clusters"]!["a"]!["activityTimeout"] = "00:00:00.300";
        await using var gateway = await GatewayInstance.StartAsync(config.ToJsonString());

        for (var i = 0; i < GatewayPassiveHealthPolicyThreshold; i++)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Chat)));
        }

        // The client sees the cut as the gateway makes it; the policy runs as the attempt unwinds, a moment later.
        var proxyState = gateway.Services.GetRequiredService<Yarp.ReverseProxy.IProxyStateLookup>();
        Assert.True(proxyState.TryGetCluster("a", out var cluster));
        var destination = Assert.Single(cluster.Destinations.Values);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (destination.Health.Passive != Yarp.ReverseProxy.Model.DestinationHealth.Unhealthy && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.Equal(Yarp.ReverseProxy.Model.DestinationHealth.Unhealthy, destination.Health.Passive);
    }

    private const int GatewayPassiveHealthPolicyThreshold = AiGateway.Resilience.GatewayPassiveHealthPolicy.ConsecutiveFailures;

    [Fact]
    public async Task ActiveHealth_ProbesWithProviderCredential_AndSkipsFailingDestination()
    {
        _a.Given(Request.Create().WithPath("/v1/models").UsingGet()).RespondWith(Response.Create().WithStatusCode(500));
        _b.Given(Request.Create().WithPath("/v1/models").UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        Respond(_a, 200);
        Respond(_b, 200);
        var config = Config();
        var cluster = config["clusters"]!["a"]!.AsObject();
        cluster["apiKey"] = "env:TEST_OPENAI_KEY";
        cluster["destinations"]!["second"] = new JsonObject { ["address"] = _b.BaseUrl() + "/v1" };
        cluster["activeHealthCheck"] = new JsonObject { ["path"] = "/models", ["interval"] = "00:00:01", ["timeout"] = "00:00:01" };
        await using var gateway = await GatewayInstance.StartAsync(config.ToJsonString(), TestConfig.Credentials);

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (_a.LogEntries.Count(e => e.RequestMessage!.Path == "/v1/models") < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "no active probes were sent");
            await Task.Delay(100);
        }
        var probe = _b.LogEntries.First(e => e.RequestMessage!.Path == "/v1/models").RequestMessage!;
        Assert.Equal($"Bearer {TestConfig.OpenAiKey}", ProxyTests.Header(probe, "Authorization"));

        var before = _a.LogEntries.Count(e => e.RequestMessage!.Path == "/v1/chat/completions");
        for (var i = 0; i < 10; i++)
        {
            using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(Chat));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(before, _a.LogEntries.Count(e => e.RequestMessage!.Path == "/v1/chat/completions"));
    }

    [Fact]
    public async Task ContextWindow_TooLongForModel_GoesToFallbackWithLargerWindow()
    {
        Respond(_a, 200);
        Respond(_b, 200);
        var config = Config(fallbacks: new JsonArray("backup"));
        var models = config["models"]!.AsArray();
        models.First(m => (string)m!["name"]! == "primary")!["contextWindow"] = 20;
        models.First(m => (string)m!["name"]! == "backup")!["contextWindow"] = 8192;
        await using var gateway = await GatewayInstance.StartAsync(config.ToJsonString());
        var longPrompt = string.Join(' ', Enumerable.Repeat("word", 60));

        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(
            $$"""{"model":"primary","max_tokens":10,"messages":[{"role":"user","content":"{{longPrompt}}"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("x-gateway-fallback").Single());
        Assert.Equal("b/up-b", response.Headers.GetValues("x-gateway-deployment").Single());
        Assert.Empty(_a.LogEntries);
    }

    private static async Task WaitForCallsAsync(WireMockServer server, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (server.LogEntries.Count() < count)
        {
            Assert.True(DateTime.UtcNow < deadline, "the upstream was not called");
            await Task.Delay(20);
        }
    }
}
