using AiGateway.RateLimiting;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using static AiGateway.Tests.RateLimiting.Limiters;

namespace AiGateway.Tests.RateLimiting;

public class AdmissionLimiterTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task ReserveAsync_Rejection_CountsMetricByScopeKindAndDimension()
    {
        using var meters = new TestMeterFactory();
        using var rejections = new MetricCollector<long>(meters, RateLimitingMetrics.MeterName, "aigateway.ratelimit.rejections");
        var limiter = Create(new InMemoryRateLimitStore(_time, TimeSpan.FromMinutes(1)), _time, meterFactory: meters);
        await limiter.ReserveAsync([Team("t", 1, null)], 0, default);

        await limiter.ReserveAsync([Key("k", 10, null), Team("t", 1, null)], 0, default);

        var measurement = Assert.Single(rejections.GetMeasurementSnapshot());
        Assert.Equal("team", measurement.Tags["scope"]);
        Assert.Equal("requests", measurement.Tags["dimension"]);
    }

    [Fact]
    public async Task ReserveAsync_StoreDownFailClosed_ReturnsUnavailable()
    {
        var limiter = Create(new ThrowingStore(), _time, new RateLimitOptions { FailureMode = RateLimitFailureMode.FailClosed });

        var decision = await limiter.ReserveAsync([Key("k", 1, null)], 0, default);

        Assert.Same(RateLimitDecision.Unavailable, decision);
        Assert.False(decision.IsAdmitted);
    }

    [Fact]
    public async Task ReserveAsync_StoreDownFailOpen_AdmitsDegraded()
    {
        var limiter = Create(new ThrowingStore(), _time, new RateLimitOptions { FailureMode = RateLimitFailureMode.FailOpen });

        var decision = await limiter.ReserveAsync([Key("k", 1, null)], 42, default);

        Assert.True(decision.IsAdmitted);
        Assert.True(decision.Reservation.IsDegraded);
        Assert.Equal(42, decision.Reservation.ReservedTokens);
        await limiter.SettleAsync(decision.Reservation, 100, default);
    }

    [Fact]
    public async Task ReserveAsync_Cancelled_ThrowsBeforeConsuming()
    {
        var store = new InMemoryRateLimitStore(_time, TimeSpan.FromMinutes(1));
        var limiter = Create(store, _time);

        await Assert.ThrowsAsync<OperationCanceledException>(async () => await limiter.ReserveAsync([Key("k", 1, null)], 0, new CancellationToken(true)));

        Assert.True((await limiter.ReserveAsync([Key("k", 1, null)], 0, default)).IsAdmitted);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(1_500)]
    public async Task ReserveAsync_InvalidWindow_Throws(int windowMs)
    {
        var limiter = Create(new InMemoryRateLimitStore(_time, TimeSpan.FromMinutes(1)), _time);
        var window = windowMs == 500 ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromTicks((windowMs * TimeSpan.TicksPerMillisecond) + 1);

        await Assert.ThrowsAsync<ArgumentException>(async () => await limiter.ReserveAsync([Key("k", 1, null, window)], 0, default));
    }

    [Fact]
    public void Normalize_DistinctCounters_ReturnsSameList()
    {
        LimitRule[] rules = [Key("k", 1, 2), Key("k", 1, 2, TimeSpan.FromHours(1)), Team("k", 1, 2)];

        Assert.Same(rules, AdmissionLimiter.Normalize(rules));
    }

    private sealed class ThrowingStore : IRateLimitStore
    {
        public ValueTask<StoreReservation> ReserveAsync(IReadOnlyList<LimitRule> rules, long tokens) =>
            throw new RateLimitStoreUnavailableException("down");

        public ValueTask AdjustAsync(IReadOnlyList<LimitRule> rules, long[] windowIndexes, long requestDelta, long tokenDelta) =>
            throw new RateLimitStoreUnavailableException("down");
    }
}
