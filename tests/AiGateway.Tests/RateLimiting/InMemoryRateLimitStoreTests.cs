using AiGateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;
using static AiGateway.Tests.RateLimiting.Limiters;

namespace AiGateway.Tests.RateLimiting;

public class InMemoryRateLimitStoreTests : AdmissionLimiterContractTests
{
    // Mid-window start, so tests see a non-trivial elapsed time; windows align to the Unix epoch.
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000 + 12_345));
    private readonly InMemoryRateLimitStore _store;
    private readonly AdmissionLimiter _limiter;

    public InMemoryRateLimitStoreTests()
    {
        _store = new InMemoryRateLimitStore(_time, TimeSpan.FromMinutes(1));
        _limiter = Create(_store, _time);
    }

    private protected override IAdmissionLimiter Limiter => _limiter;

    protected override Task AdvanceAsync(TimeSpan by)
    {
        _time.Advance(by);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ReserveAsync_OneMillisecondBeforeRetryAfter_StillRejects()
    {
        var rules = new[] { Key("k", 10, null) };
        for (var i = 0; i < 10; i++)
        {
            await _limiter.ReserveAsync(rules, 0, default);
        }

        var retryAfter = (await _limiter.ReserveAsync(rules, 0, default)).Rejection!.RetryAfter!.Value;

        _time.Advance(retryAfter - TimeSpan.FromMilliseconds(1));
        Assert.False((await _limiter.ReserveAsync(rules, 0, default)).IsAdmitted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True((await _limiter.ReserveAsync(rules, 0, default)).IsAdmitted);
    }

    [Fact]
    public async Task ReserveAsync_PreviousWindowFull_FreesCapacityLinearly()
    {
        // Fill 100 at the very end of a window; halfway through the next, about half is free again.
        _time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds((30_000_001L * 60_000) + 59_999));
        var rules = new[] { Key("k", 100, null) };
        for (var i = 0; i < 100; i++)
        {
            Assert.True((await _limiter.ReserveAsync(rules, 0, default)).IsAdmitted);
        }

        _time.Advance(TimeSpan.FromMilliseconds(30_001));
        var admitted = 0;
        while ((await _limiter.ReserveAsync(rules, 0, default)).IsAdmitted)
        {
            admitted++;
        }

        Assert.Equal(50, admitted);
    }

    [Fact]
    public async Task ReserveAsync_RejectedByTwoLimits_ReportsTheOneThatFreesLast()
    {
        var key = Key("k", 1, null);
        var team = Team("t", null, 200);
        Assert.True((await _limiter.ReserveAsync([key, team], 100, default)).IsAdmitted);

        // Tokens fit again once half of the 100 decays (30 s into the next window); the single request
        // only when the whole window has decayed: 2 × 60 s − 12.345 s elapsed.
        var decision = await _limiter.ReserveAsync([key, team], 150, default);

        Assert.Equal(LimitScopeKind.Key, decision.Rejection!.Scope.Kind);
        Assert.Equal(LimitDimension.Requests, decision.Rejection.Dimension);
        Assert.Equal(TimeSpan.FromMilliseconds(107_655), decision.Rejection.RetryAfter);
    }

    [Fact]
    public async Task SettleAsync_AfterChargedWindowExpired_DropsRefundAndDebitsNow()
    {
        var rules = new[] { Key("k", 100, 1_000) };
        var refund = await _limiter.ReserveAsync(rules, 500, default);
        var debit = await _limiter.ReserveAsync(rules, 100, default);
        _time.Advance(TimeSpan.FromMinutes(3));

        await _limiter.SettleAsync(refund.Reservation!, 0, default);
        await _limiter.SettleAsync(debit.Reservation!, 700, default);

        var next = await _limiter.ReserveAsync(rules, 0, default);
        Assert.Equal(400, next.Reservation!.Tokens!.Remaining);
    }

    [Fact]
    public async Task SettleAsync_ChargedInPreviousWindow_AdjustsThePreviousWindow()
    {
        _time.SetUtcNow(DateTimeOffset.FromUnixTimeMilliseconds(30_000_001L * 60_000));
        var rules = new[] { Key("k", 100, 1_000) };
        var first = await _limiter.ReserveAsync(rules, 1_000, default);
        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.False((await _limiter.ReserveAsync(rules, 1, default)).IsAdmitted);

        await _limiter.SettleAsync(first.Reservation!, 0, default);

        Assert.True((await _limiter.ReserveAsync(rules, 1_000, default)).IsAdmitted);
    }

    [Fact]
    public async Task Sweep_IdleCountersOlderThanTwoWindows_AreRemoved()
    {
        // No background sweep during this test: it calls Sweep itself.
        var store = new InMemoryRateLimitStore(_time, TimeSpan.FromHours(1));
        var limiter = Create(store, _time);
        for (var i = 0; i < 10_000; i++)
        {
            await limiter.ReserveAsync([Key("k" + i, 10, 100)], 1, default);
        }

        _time.Advance(TimeSpan.FromSeconds(61));
        await limiter.ReserveAsync([Key("active", 10, 100)], 1, default);
        Assert.Equal(0, store.Sweep());

        _time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(10_000, store.Sweep());
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public async Task ReserveAsync_AfterSweepInterval_SweepsInTheBackground()
    {
        for (var i = 0; i < 1_000; i++)
        {
            await _limiter.ReserveAsync([Key("k" + i, 10, 100)], 1, default);
        }

        _time.Advance(TimeSpan.FromMinutes(3));
        await _limiter.ReserveAsync([Key("trigger", 10, 100)], 1, default);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (_store.Count > 1)
        {
            await Task.Delay(10, timeout.Token);
        }

        Assert.Equal(1, _store.Count);
    }

    [Fact]
    public async Task ReserveAsync_ConcurrentWithSweeps_NeverOverAdmits()
    {
        var rules = new[] { Key("hot", 200, null), Team("team", null, 1_000_000) };
        using var stop = new CancellationTokenSource();
        var sweeper = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                _store.Sweep();
            }
        });

        var decisions = await Task.WhenAll(Enumerable.Range(0, 1_000).Select(_ => Task.Run(async () => await _limiter.ReserveAsync(rules, 1, default))));
        await stop.CancelAsync();
        await sweeper;

        Assert.Equal(200, decisions.Count(d => d.IsAdmitted));
    }
}
