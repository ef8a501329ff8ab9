using System.Net;
using System.Text.Json.Nodes;
using AiGateway.FunctionalTests.Infrastructure;
using AiGateway.Tests.RateLimiting;

namespace AiGateway.FunctionalTests;

/// <summary>Limits hold across replicas: three gateways share one real Redis.</summary>
/// <remarks>
/// Run alone: the 300-request bursts measure admission accuracy, and with other test classes loading the
/// two cores a healthy Redis can answer slower than the limiter's timeout, which fail-open turns into admissions.
/// </remarks>
[Collection(SerialCollection.Name)]
public sealed class MultiReplicaTests : IAsyncLifetime
{
    private RedisServer _redis = null!;

    public async Task InitializeAsync()
    {
        Assert.True(RedisServer.IsInstalled, RedisServer.MissingReason);
        _redis = await RedisServer.StartAsync();
    }

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    private async Task<GatewayInstance[]> StartReplicasAsync(JsonObject keyLimit, int count = 3, string failureMode = "FailOpen")
    {
        var config = TestConfig.Create();
        config["auth"]!["keys"]![0]!["rateLimit"] = keyLimit;
        var replicas = new GatewayInstance[count];
        var prefix = $"t{Guid.NewGuid():N}";
        for (var i = 0; i < count; i++)
        {
            replicas[i] = await GatewayInstance.StartAsync(config.ToJsonString(),
                $"--ConnectionStrings:Redis={_redis.ConnectionString}",
                $"--RateLimiting:FailureMode={failureMode}",
                $"--RateLimiting:RedisKeyPrefix={prefix}",
                "--RateLimiting:RedisOperationTimeout=00:00:02");
        }
        foreach (var replica in replicas)
        {
            await WaitReadyAsync(replica);
        }
        return replicas;
    }

    private static async Task WaitReadyAsync(GatewayInstance replica)
    {
        using var client = replica.CreateClient(null);
        var deadline = DateTimeOffset.UtcNow.AddSeconds(20);
        while ((await client.GetAsync("readyz")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "the replica did not connect to Redis");
            await Task.Delay(50);
        }
    }

    private static async Task<HttpStatusCode[]> BurstAsync(GatewayInstance[] replicas, int total, string body)
    {
        using var start = new SemaphoreSlim(0);
        var tasks = Enumerable.Range(0, total).Select(async i =>
        {
            await start.WaitAsync();
            using var response = await replicas[i % replicas.Length].Client.PostAsync("v1/chat/completions", ProxyTests.Json(body));
            return response.StatusCode;
        }).ToArray();
        start.Release(total);
        return await Task.WhenAll(tasks);
    }

    [Fact]
    public async Task RequestsPerMinute_300ConcurrentAcross3Replicas_Admits100Within2Percent()
    {
        var replicas = await StartReplicasAsync(new JsonObject { ["requestsPerMinute"] = 100 });
        try
        {
            var statuses = await BurstAsync(replicas, 300, """{"model":"echo","messages":[{"role":"user","content":"hi"}]}""");

            var admitted = statuses.Count(s => s == HttpStatusCode.OK);
            Assert.InRange(admitted, 98, 102);
            Assert.Equal(300 - admitted, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        }
        finally
        {
            foreach (var replica in replicas) await replica.DisposeAsync();
        }
    }

    [Fact]
    public async Task TokensPerMinute_300ConcurrentAcross3Replicas_AdmitsLimitWithin2Percent()
    {
        // The echo answers exactly max_tokens words, so every request uses exactly what it reserved.
        const string body = """{"model":"echo","max_tokens":10,"messages":[{"role":"user","content":"a b c d e f g h i j"}]}""";
        var replicas = await StartReplicasAsync(new JsonObject { ["tokensPerMinute"] = 100_000 });
        try
        {
            using var probe = await replicas[0].Client.PostAsync("v1/chat/completions", ProxyTests.Json(body));
            var perRequest = 100_000 - int.Parse(probe.Headers.GetValues("x-ratelimit-remaining-tokens").Single(), System.Globalization.CultureInfo.InvariantCulture);
            foreach (var replica in replicas) await replica.DisposeAsync();

            var limit = perRequest * 100;
            replicas = await StartReplicasAsync(new JsonObject { ["tokensPerMinute"] = limit });
            var statuses = await BurstAsync(replicas, 300, body);

            var admittedTokens = statuses.Count(s => s == HttpStatusCode.OK) * perRequest;
            Assert.InRange(admittedTokens, limit * 0.98, limit * 1.02);
        }
        finally
        {
            foreach (var replica in replicas) await replica.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("FailOpen", HttpStatusCode.OK)]
    [InlineData("FailClosed", HttpStatusCode.ServiceUnavailable)]
    public async Task RedisDown_FollowsFailureMode_AndRecoversWhenRedisReturns(string mode, HttpStatusCode whileDown)
    {
        var replicas = await StartReplicasAsync(new JsonObject { ["requestsPerMinute"] = 1000 }, count: 1, failureMode: mode);
        var gateway = replicas[0];
        const string body = """{"model":"echo","messages":[{"role":"user","content":"hi"}]}""";
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(body))).StatusCode);

            _redis.Kill();
            var started = DateTimeOffset.UtcNow;
            using var down = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(body));
            Assert.Equal(whileDown, down.StatusCode);
            Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(5), "the gateway waited on a dead Redis");
            if (whileDown == HttpStatusCode.ServiceUnavailable)
            {
                await ErrorTests.AssertErrorAsync(down, 503, null, "rate_limit_store_unavailable");
            }

            await _redis.StartAsync();
            var deadline = DateTimeOffset.UtcNow.AddSeconds(20);
            while (true)
            {
                using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(body));
                if (response.StatusCode == HttpStatusCode.OK && response.Headers.Contains("x-ratelimit-remaining-requests")) break;
                Assert.True(DateTimeOffset.UtcNow < deadline, "the gateway did not recover after Redis came back");
                await Task.Delay(200);
            }
        }
        finally
        {
            await gateway.DisposeAsync();
        }
    }
}
