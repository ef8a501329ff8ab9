using AiGateway.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using static AiGateway.Tests.RateLimiting.Limiters;

namespace AiGateway.Tests.RateLimiting;

/// <summary>Three "replicas" (own multiplexer, store and limiter each) share one redis-server.</summary>
public sealed class RedisMultiReplicaTests : IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private const int Replicas = 3;
    private readonly RedisServerFixture _fixture;
    private readonly List<ConnectionMultiplexer> _multiplexers = [];
    private readonly List<AdmissionLimiter> _limiters = [];

    public RedisMultiReplicaTests(RedisServerFixture fixture) => _fixture = fixture;

    public async Task InitializeAsync()
    {
        if (_fixture.Server is null)
        {
            return;
        }

        var options = new RateLimitOptions { RedisOperationTimeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < Replicas; i++)
        {
            var multiplexer = await ConnectionMultiplexer.ConnectAsync(RedisConnection.CreateConfiguration(_fixture.Server.ConnectionString, options));
            _multiplexers.Add(multiplexer);
            _limiters.Add(Create(new RedisRateLimitStore(new RedisConnection(multiplexer, options.RedisOperationTimeout), "replicas", NullLogger<RedisRateLimitStore>.Instance)));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var multiplexer in _multiplexers)
        {
            await multiplexer.DisposeAsync();
        }
    }

    [RedisFact]
    public async Task ReserveAsync_300ConcurrentAcrossReplicasAt100Rpm_AdmitsWithin2Percent()
    {
        var rules = new[] { Key(Guid.NewGuid().ToString("N"), 100, 1_000_000), Team(Guid.NewGuid().ToString("N"), 10_000, null) };

        var decisions = await RunConcurrentlyAsync(rules, 300, tokens: 50);

        Assert.InRange(decisions.Count(d => d.IsAdmitted), 98, 102);
        Assert.All(decisions.Where(d => !d.IsAdmitted), d => Assert.Equal(RateLimitOutcome.Rejected, d.Outcome));
    }

    [RedisFact]
    public async Task ReserveAsync_300ConcurrentAcrossReplicasAtTokenLimit_AdmitsWithin2PercentOfTokens()
    {
        const long tpm = 15_000;
        var rules = new[] { Key(Guid.NewGuid().ToString("N"), 1_000, tpm) };

        var decisions = await RunConcurrentlyAsync(rules, 300, tokens: 100);

        Assert.InRange(decisions.Where(d => d.IsAdmitted).Sum(d => (long)d.Reservation!.ReservedTokens), tpm * 98 / 100, tpm * 102 / 100);
    }

    [RedisFact]
    public async Task SettleAsync_FromAnotherReplica_RefundsForAll()
    {
        var rules = new[] { Key(Guid.NewGuid().ToString("N"), 100, 1_000) };
        var reserved = await _limiters[0].ReserveAsync(rules, 1_000, default);
        Assert.False((await _limiters[1].ReserveAsync(rules, 1, default)).IsAdmitted);

        await _limiters[2].SettleAsync(reserved.Reservation!, 10, default);

        Assert.True((await _limiters[1].ReserveAsync(rules, 990, default)).IsAdmitted);
    }

    private async Task<RateLimitDecision[]> RunConcurrentlyAsync(LimitRule[] rules, int count, int tokens)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, count).Select(async i =>
        {
            await start.Task;
            return await _limiters[i % Replicas].ReserveAsync(rules, tokens, default);
        }).ToArray();
        start.SetResult();
        return await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(30));
    }
}
