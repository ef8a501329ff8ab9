using System.Diagnostics;
using AiGateway.RateLimiting;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static AiGateway.Tests.RateLimiting.Limiters;

namespace AiGateway.Tests.RateLimiting;

/// <summary>Kills redis-server mid-test: the configured failure mode applies, nothing hangs, and the limiter recovers on restart.</summary>
public sealed class RedisOutageTests
{
    // Far below StackExchange.Redis's default 5 s timeouts; generous over the 500 ms operation timeout so a busy CI machine does not flake.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan OperationTimeout = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan RecoveryTimeout = TimeSpan.FromSeconds(30);

    [RedisFact]
    public async Task ReserveAsync_RedisKilledFailOpen_AdmitsDegradedThenRecovers()
    {
        await using var server = await RedisServer.StartAsync();
        using var meters = new TestMeterFactory();
        using var failures = new MetricCollector<long>(meters, RateLimitingMetrics.MeterName, "aigateway.ratelimit.store_failures");
        var logger = new ListLogger<AdmissionLimiter>();
        var options = new RateLimitOptions { FailureMode = RateLimitFailureMode.FailOpen, RedisConnectTimeout = TimeSpan.FromSeconds(1), RedisOperationTimeout = OperationTimeout };
        await using var connection = new RedisConnection(server.ConnectionString, options);
        var limiter = Create(new RedisRateLimitStore(connection, "outage", NullLogger<RedisRateLimitStore>.Instance), options: options, meterFactory: meters, logger: logger);
        var rules = new[] { Key("k", 1, null) };
        await WaitUntilConnectedAsync(connection);

        Assert.False((await ReserveWithinAsync(limiter, rules, Bound)).Reservation!.IsDegraded);
        Assert.Equal(RateLimitOutcome.Rejected, (await limiter.ReserveAsync(rules, 0, default)).Outcome);

        server.Kill();
        for (var i = 0; i < 5; i++)
        {
            var decision = await ReserveWithinAsync(limiter, rules, Bound);
            Assert.True(decision.IsAdmitted);
            Assert.True(decision.Reservation.IsDegraded);
            Assert.Null(decision.Reservation.Requests);
            await limiter.SettleAsync(decision.Reservation, 10, default);
        }

        Assert.Equal(5, failures.GetMeasurementSnapshot().Count(m => m.Tags["mode"] as string == "fail_open" && m.Tags["operation"] as string == "reserve"));
        Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning);

        await server.StartAsync();
        await WaitForAsync(async () => await limiter.ReserveAsync(rules, 0, default) is { IsAdmitted: true, Reservation.IsDegraded: false });
        Assert.Equal(RateLimitOutcome.Rejected, (await limiter.ReserveAsync(rules, 0, default)).Outcome);
        Assert.Contains(logger.Entries, e => e.Id.Id == 2);
    }

    [RedisFact]
    public async Task ReserveAsync_RedisKilledFailClosed_ReturnsUnavailableThenRecovers()
    {
        await using var server = await RedisServer.StartAsync();
        var options = new RateLimitOptions { FailureMode = RateLimitFailureMode.FailClosed, RedisConnectTimeout = TimeSpan.FromSeconds(1), RedisOperationTimeout = OperationTimeout };
        await using var connection = new RedisConnection(server.ConnectionString, options);
        var limiter = Create(new RedisRateLimitStore(connection, "outage", NullLogger<RedisRateLimitStore>.Instance), options: options);
        var rules = new[] { Key("k", 100, null) };
        await WaitUntilConnectedAsync(connection);
        Assert.True((await ReserveWithinAsync(limiter, rules, Bound)).IsAdmitted);

        server.Kill();
        for (var i = 0; i < 5; i++)
        {
            var decision = await ReserveWithinAsync(limiter, rules, Bound);
            Assert.Equal(RateLimitOutcome.StoreUnavailable, decision.Outcome);
            Assert.Null(decision.Reservation);
            Assert.Null(decision.Rejection);
        }

        await server.StartAsync();
        await WaitForAsync(async () => (await limiter.ReserveAsync(rules, 0, default)).IsAdmitted);
    }

    [RedisFact]
    public async Task ReserveAsync_RedisNeverStarted_AnswersWithinTheOperationTimeout()
    {
        await using var server = await RedisServer.StartAsync();
        server.Kill();
        var options = new RateLimitOptions { FailureMode = RateLimitFailureMode.FailClosed, RedisConnectTimeout = TimeSpan.FromSeconds(10), RedisOperationTimeout = OperationTimeout };
        await using var connection = new RedisConnection(server.ConnectionString, options);
        var limiter = Create(new RedisRateLimitStore(connection, "outage", NullLogger<RedisRateLimitStore>.Instance), options: options);

        // Well under the 10 s connect timeout: the first request waits one operation timeout, not the connect.
        var decision = await ReserveWithinAsync(limiter, [Key("k", 100, null)], Bound);

        Assert.Equal(RateLimitOutcome.StoreUnavailable, decision.Outcome);
    }

    [Fact]
    public async Task ReserveAsync_RepeatedFailures_LogsOncePerInterval()
    {
        var time = new FakeTimeProvider();
        var logger = new ListLogger<AdmissionLimiter>();
        var limiter = Create(new DownStore(), time, new RateLimitOptions { OutageLogInterval = TimeSpan.FromSeconds(30) }, logger: logger);

        for (var i = 0; i < 10; i++)
        {
            await limiter.ReserveAsync([Key("k", 1, null)], 0, default);
        }

        time.Advance(TimeSpan.FromSeconds(31));
        await limiter.ReserveAsync([Key("k", 1, null)], 0, default);

        Assert.Equal(2, logger.Entries.Count(e => e.Level == LogLevel.Warning));
    }

    [Fact]
    public async Task SettleAsync_StoreDown_DoesNotThrowAndCountsFailure()
    {
        using var meters = new TestMeterFactory();
        using var failures = new MetricCollector<long>(meters, RateLimitingMetrics.MeterName, "aigateway.ratelimit.store_failures");
        var memory = new InMemoryRateLimitStore(TimeProvider.System, TimeSpan.FromMinutes(1));
        var reservation = (await Create(memory).ReserveAsync([Key("k", 10, 100)], 50, default)).Reservation!;

        await Create(new DownStore(), meterFactory: meters).SettleAsync(reservation, 0, default);

        Assert.Equal("settle", Assert.Single(failures.GetMeasurementSnapshot()).Tags["operation"]);
    }

    private static async Task<RateLimitDecision> ReserveWithinAsync(IAdmissionLimiter limiter, LimitRule[] rules, TimeSpan bound)
    {
        var watch = Stopwatch.StartNew();
        var decision = await limiter.ReserveAsync(rules, 0, default).AsTask().WaitAsync(bound + TimeSpan.FromSeconds(5));
        Assert.True(watch.Elapsed < bound, $"ReserveAsync took {watch.Elapsed}, bound {bound}.");
        return decision;
    }

    /// <summary>The first connect may take longer than one operation timeout on a busy machine; that is not what these tests are about.</summary>
    private static Task WaitUntilConnectedAsync(RedisConnection connection) =>
        WaitForAsync(async () =>
        {
            try
            {
                return (await connection.GetAsync()).IsConnected;
            }
            catch (RateLimitStoreUnavailableException)
            {
                return false;
            }
        });

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < RecoveryTimeout, $"Not recovered within {RecoveryTimeout}.");
            await Task.Delay(100);
        }
    }

    private sealed class DownStore : IRateLimitStore
    {
        public ValueTask<StoreReservation> ReserveAsync(IReadOnlyList<LimitRule> rules, long tokens) =>
            throw new RateLimitStoreUnavailableException("down");

        public ValueTask AdjustAsync(IReadOnlyList<LimitRule> rules, long[] windowIndexes, long requestDelta, long tokenDelta) =>
            throw new RateLimitStoreUnavailableException("down");
    }
}
