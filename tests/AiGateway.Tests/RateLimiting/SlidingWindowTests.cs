using AiGateway.RateLimiting;

namespace AiGateway.Tests.RateLimiting;

public class SlidingWindowTests
{
    private const long W = 60_000;

    [Theory]
    [InlineData(0, 0, 0, 0.0)]
    [InlineData(10, 0, 30_000, 10.0)]
    [InlineData(0, 100, 0, 100.0)]
    [InlineData(0, 100, 30_000, 50.0)]
    [InlineData(5, 100, 45_000, 30.0)]
    [InlineData(0, 100, 59_999, 100.0 / 60_000)]
    public void Estimate_WeightsPreviousWindowByRemainingOverlap(long current, long previous, long elapsed, double expected) =>
        Assert.Equal(expected, SlidingWindow.Estimate(current, previous, elapsed, W), 9);

    [Theory]
    [InlineData(99, 0, 0, 1, 100, true)]
    [InlineData(100, 0, 0, 1, 100, false)]
    [InlineData(0, 100, 0, 1, 100, false)]
    [InlineData(0, 100, 600, 1, 100, true)]
    [InlineData(0, 100, 599, 1, 100, false)]
    [InlineData(0, 0, 0, 101, 100, false)]
    [InlineData(50, 100, 30_000, 0, 100, true)]
    public void Fits_ComparesEstimatePlusCostWithLimit(long current, long previous, long elapsed, long cost, long limit, bool expected) =>
        Assert.Equal(expected, SlidingWindow.Fits(current, previous, elapsed, W, cost, limit));

    [Theory]
    [InlineData(0, 0, 0, 1, 100, 0L)]
    [InlineData(0, 100, 0, 1, 100, 600L)]
    [InlineData(0, 100, 30_000, 60, 100, 6_000L)]
    [InlineData(100, 0, 0, 1, 100, 60_600L)]
    [InlineData(100, 0, 59_000, 100, 100, 61_000L)]
    [InlineData(10, 0, 12_345, 10, 10, 107_655L)]
    [InlineData(0, 0, 0, 101, 100, null)]
    public void RetryAfterMs_IsTheFirstMillisecondTheCostFits(long current, long previous, long elapsed, long cost, long limit, long? expected) =>
        Assert.Equal(expected, SlidingWindow.RetryAfterMs(current, previous, elapsed, W, cost, limit));

    [Theory]
    [InlineData(100, 0, 0, 1, 100)]
    [InlineData(37, 91, 12_345, 13, 100)]
    [InlineData(1, 999_999, 1, 100, 1_000_000)]
    [InlineData(999_000, 1_000_000, 1, 2_000, 1_000_000)]
    [InlineData(3, 3, 40_000, 3, 5)]
    public void RetryAfterMs_OneMillisecondEarlier_DoesNotFit(long current, long previous, long elapsed, long cost, long limit)
    {
        var wait = SlidingWindow.RetryAfterMs(current, previous, elapsed, W, cost, limit)!.Value;

        Assert.False(SlidingWindow.Fits(current, previous, elapsed, W, cost, limit));

        Assert.True(SlidingWindow.FitsAfter(current, previous, elapsed, W, cost, limit, wait));
        Assert.False(SlidingWindow.FitsAfter(current, previous, elapsed, W, cost, limit, wait - 1));
    }

    [Theory]
    [InlineData(0, 0, 10_000, 0L)]
    [InlineData(0, 5, 10_000, 50_000L)]
    [InlineData(5, 5, 10_000, 110_000L)]
    public void ResetAfterMs_IsWhenUsageHasFullyDecayed(long current, long previous, long elapsed, long expected) =>
        Assert.Equal(expected, SlidingWindow.ResetAfterMs(current, previous, elapsed, W));

    [Theory]
    [InlineData(0, 0, 0, 100, 100L)]
    [InlineData(0, 100, 30_000, 100, 50L)]
    [InlineData(0, 99, 30_000, 100, 50L)]
    [InlineData(120, 0, 0, 100, 0L)]
    public void Remaining_IsWholeUnitsLeftNeverNegative(long current, long previous, long elapsed, long limit, long expected) =>
        Assert.Equal(expected, SlidingWindow.Remaining(current, previous, elapsed, W, limit));
}
