using System.Net;
using AiGateway.FunctionalTests.Infrastructure;
using AiGateway.Tests.RateLimiting;

namespace AiGateway.FunctionalTests;

/// <summary>The response cache's Redis tier: shared by replicas, and never a reason for a request to fail.</summary>
public sealed class ResponseCacheRedisTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private ScriptedUpstream _upstream = null!;
    private int _calls;

    public async Task InitializeAsync()
    {
        Assert.True(RedisServer.IsInstalled, RedisServer.MissingReason);
        _redis = await RedisServer.StartAsync();
        _upstream = await ScriptedUpstream.StartAsync(async context =>
        {
            Interlocked.Increment(ref _calls);
            await ResponseCacheTests.RespondAsync(context, await new StreamReader(context.Request.Body).ReadToEndAsync());
        });
    }

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private const string Question = """{"model":"gpt-test","temperature":0,"messages":[{"role":"user","content":"Shared across replicas?"}]}""";

    private Task<GatewayInstance> StartAsync(string redis, string prefix) =>
        GatewayInstance.StartAsync(ResponseCacheTests.Config(_upstream.BaseUrl).ToJsonString(),
            [.. TestConfig.Credentials, $"--ConnectionStrings:Redis={redis}", $"--RateLimiting:RedisKeyPrefix={prefix}"]);

    [Fact]
    public async Task TwoReplicas_ShareAHitThroughRedis_AndAPurge()
    {
        var prefix = $"t{Guid.NewGuid():N}";
        await using var first = await StartAsync(_redis.ConnectionString, prefix);
        await using var second = await StartAsync(_redis.ConnectionString, prefix);

        var (miss, missBody) = await ResponseCacheTests.PostAsync(first.Client, Question);
        // The Redis write follows the answer; wait until the entry is there.
        var deadline = DateTimeOffset.UtcNow.AddSeconds(10);
        while ((await _redis.CommandAsync("KEYS", prefix + ":cache:*")).StartsWith("*0", StringComparison.Ordinal))
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "the entry never reached Redis");
            await Task.Delay(20);
        }
        var (hit, hitBody) = await ResponseCacheTests.PostAsync(second.Client, Question);
        // Streamed from the other replica's entry, too.
        var (streamed, streamedBody) = await ResponseCacheTests.PostAsync(second.Client, Question.Replace("{\"model\"", "{\"stream\":true,\"model\"", StringComparison.Ordinal));

        Assert.Equal("MISS", ResponseCacheTests.CacheStatus(miss));
        Assert.Equal("HIT", ResponseCacheTests.CacheStatus(hit));
        Assert.Equal(missBody, hitBody);
        Assert.Equal("HIT", ResponseCacheTests.CacheStatus(streamed));
        Assert.Contains("Paris is the capital.", streamedBody, StringComparison.Ordinal);
        Assert.Equal(1, _calls);

        var key = hit.Headers.GetValues("x-gateway-cache-key").Single();
        using var admin = first.CreateClient(GatewayInstance.AdminKey);
        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync($"admin/v1/cache/entries/{key}")).StatusCode);
        Assert.StartsWith("*0", await _redis.CommandAsync("KEYS", prefix + ":cache:*"), StringComparison.Ordinal);
        var (third, _) = await ResponseCacheTests.PostAsync(first.Client, Question);
        Assert.Equal("MISS", ResponseCacheTests.CacheStatus(third));
        Assert.Equal(2, _calls);
    }

    [Fact]
    public async Task RedisDown_RequestsSucceedFast_ServedFromMemory()
    {
        // Nothing listens there: every Redis operation fails.
        await using var gateway = await StartAsync($"127.0.0.1:{GatewayInstance.FreePort()},connectTimeout=200", $"t{Guid.NewGuid():N}");

        var started = DateTimeOffset.UtcNow;
        var (miss, missBody) = await ResponseCacheTests.PostAsync(gateway.Client, Question);
        await ResponseCacheTests.StoredAsync(gateway);
        var (hit, hitBody) = await ResponseCacheTests.PostAsync(gateway.Client, Question);
        var elapsed = DateTimeOffset.UtcNow - started;

        Assert.Equal(HttpStatusCode.OK, miss.StatusCode);
        Assert.Equal("MISS", ResponseCacheTests.CacheStatus(miss));
        Assert.Equal(ResponseCacheTests.Json, missBody);
        Assert.Equal("HIT", ResponseCacheTests.CacheStatus(hit));
        Assert.Equal(missBody, hitBody);
        Assert.True(elapsed < TimeSpan.FromSeconds(3), $"the cache waited on a dead Redis ({elapsed})");
        Assert.Equal(1, _calls);
    }

    [Fact]
    public async Task RedisKilledMidway_MissesStillSucceed()
    {
        var prefix = $"t{Guid.NewGuid():N}";
        await using var gateway = await StartAsync(_redis.ConnectionString, prefix);
        await ResponseCacheTests.PostAsync(gateway.Client, Question);
        await ResponseCacheTests.StoredAsync(gateway);

        _redis.Kill();
        var started = DateTimeOffset.UtcNow;
        var (other, body) = await ResponseCacheTests.PostAsync(gateway.Client, Question.Replace("replicas?", "replicas, down?", StringComparison.Ordinal));
        var (again, _) = await ResponseCacheTests.PostAsync(gateway.Client, Question);

        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(ResponseCacheTests.Json, body);
        Assert.Equal("MISS", ResponseCacheTests.CacheStatus(other));
        Assert.Equal("HIT", ResponseCacheTests.CacheStatus(again));
        Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(3), "the cache waited on a dead Redis");
    }
}
