using AiGateway.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using static AiGateway.Tests.RateLimiting.Limiters;

namespace AiGateway.Tests.RateLimiting;

/// <summary>
/// A one-node Redis Cluster still refuses cross-slot scripts, so it proves the per-slot path: scopes in
/// different slots are reserved per slot and compensated on rejection.
/// </summary>
public sealed class RedisClusterTests
{
    [RedisFact]
    public async Task ReserveAsync_ScopesInDifferentSlots_AllOrNothing()
    {
        await using var server = await RedisServer.StartAsync(cluster: true);
        var options = new RateLimitOptions { RedisOperationTimeout = TimeSpan.FromSeconds(2) };
        await using var multiplexer = await ConnectionMultiplexer.ConnectAsync(RedisConnection.CreateConfiguration(server.ConnectionString, options));
        var connection = new RedisConnection(multiplexer, options.RedisOperationTimeout);
        var store = new RedisRateLimitStore(connection, "cluster", NullLogger<RedisRateLimitStore>.Instance);
        var limiter = Create(store);
        Assert.True(connection.IsCluster(multiplexer));
        var team = Team("t", 1, null);
        var key = Key("k", 10, 1_000);
        Assert.NotEqual(multiplexer.HashSlot(store.Key(team)), multiplexer.HashSlot(store.Key(key)));

        Assert.True((await limiter.ReserveAsync([Key("other", 10, null), team], 500, default)).IsAdmitted);
        var rejected = await limiter.ReserveAsync([key, team], 500, default);

        Assert.Equal(LimitScopeKind.Team, rejected.Rejection!.Scope.Kind);
        var keyOnly = await limiter.ReserveAsync([key], 0, default);
        Assert.Equal(9, keyOnly.Reservation!.Requests!.Remaining);
        Assert.Equal(1_000, keyOnly.Reservation.Tokens!.Remaining);
    }

    [RedisFact]
    public async Task ReserveAndSettle_AcrossSlots_WorkConcurrently()
    {
        await using var server = await RedisServer.StartAsync(cluster: true);
        var options = new RateLimitOptions { RedisOperationTimeout = TimeSpan.FromSeconds(2) };
        await using var multiplexer = await ConnectionMultiplexer.ConnectAsync(RedisConnection.CreateConfiguration(server.ConnectionString, options));
        var limiter = Create(new RedisRateLimitStore(new RedisConnection(multiplexer, options.RedisOperationTimeout), "cluster", NullLogger<RedisRateLimitStore>.Instance));
        var rules = new[] { Key("k", 1_000, 100_000), Team("t", 100, null) };

        var decisions = await Task.WhenAll(Enumerable.Range(0, 300).Select(_ => limiter.ReserveAsync(rules, 100, default).AsTask()));
        Assert.Equal(100, decisions.Count(d => d.IsAdmitted));

        await Task.WhenAll(decisions.Where(d => d.IsAdmitted).Select(d => limiter.SettleAsync(d.Reservation!, 0, default).AsTask()));
        var next = await limiter.ReserveAsync([Key("k", 1_000, 100_000)], 0, default);
        Assert.Equal(100_000, next.Reservation!.Tokens!.Remaining);
        Assert.Equal(899, next.Reservation.Requests!.Remaining);
    }
}
