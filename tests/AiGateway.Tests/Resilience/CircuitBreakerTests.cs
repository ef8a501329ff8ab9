using AiGateway.Configuration;
using AiGateway.Resilience;
using Microsoft.Extensions.Time.Testing;

namespace AiGateway.Tests.Resilience;

public class CircuitBreakerTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private static readonly BreakerOptions Options = new() { ConsecutiveFailures = 3, FailureRatio = 0.5, MinimumThroughput = 10, BreakDuration = TimeSpan.FromSeconds(30) };

    [Fact]
    public void RecordFailure_ConsecutiveThreshold_Opens()
    {
        var breaker = new CircuitBreaker(_time);

        Assert.False(breaker.RecordFailure(Options, null));
        Assert.False(breaker.RecordFailure(Options, null));
        Assert.True(breaker.RecordFailure(Options, null));

        Assert.Equal(BreakerState.Open, breaker.State);
        Assert.False(breaker.IsAvailable);
        Assert.False(breaker.TryAcquire());
    }

    [Fact]
    public void RecordSuccess_ResetsConsecutiveCount()
    {
        var breaker = new CircuitBreaker(_time);

        breaker.RecordFailure(Options, null);
        breaker.RecordFailure(Options, null);
        breaker.RecordSuccess(Options);
        breaker.RecordFailure(Options, null);

        Assert.Equal(BreakerState.Closed, breaker.State);
    }

    [Fact]
    public void RecordFailure_RatioOverMinimumThroughput_Opens()
    {
        var breaker = new CircuitBreaker(_time);
        for (var i = 0; i < 4; i++)
        {
            breaker.RecordSuccess(Options);
            Assert.False(breaker.RecordFailure(Options, null));
        }
        breaker.RecordSuccess(Options);

        // 5 of 10 failed, never 3 in a row: the ratio opens it once the throughput is reached.
        Assert.True(breaker.RecordFailure(Options, null));
        Assert.Equal(BreakerState.Open, breaker.State);
    }

    [Fact]
    public void RecordFailure_RetryAfter_OpensForThatLong()
    {
        var breaker = new CircuitBreaker(_time);

        Assert.True(breaker.RecordFailure(Options, TimeSpan.FromSeconds(5)));
        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(breaker.IsAvailable);
        Assert.True(breaker.WillBeAvailableAt(_time.GetUtcNow() + TimeSpan.FromMilliseconds(100)));
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(breaker.IsAvailable);
    }

    [Fact]
    public void HalfOpen_AllowsOneProbe_SuccessCloses()
    {
        var breaker = Opened();
        _time.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(BreakerState.HalfOpen, breaker.State);
        Assert.True(breaker.TryAcquire());
        Assert.False(breaker.TryAcquire());
        Assert.False(breaker.IsAvailable);
        breaker.RecordSuccess(Options);

        Assert.Equal(BreakerState.Closed, breaker.State);
        Assert.True(breaker.TryAcquire());
    }

    [Fact]
    public void HalfOpen_ProbeFails_ReopensForAnotherBreak()
    {
        var breaker = Opened();
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(breaker.TryAcquire());

        Assert.True(breaker.RecordFailure(Options, null));

        Assert.Equal(BreakerState.Open, breaker.State);
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(breaker.IsAvailable);
    }

    private CircuitBreaker Opened()
    {
        var breaker = new CircuitBreaker(_time);
        for (var i = 0; i < 3; i++) breaker.RecordFailure(Options, null);
        return breaker;
    }
}
