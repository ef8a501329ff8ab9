using AiGateway.RateLimiting;
using static AiGateway.Tests.RateLimiting.Limiters;

namespace AiGateway.Tests.RateLimiting;

/// <summary>The behaviour every store must show, run against in-memory and real Redis.</summary>
public abstract class AdmissionLimiterContractTests
{
    private protected abstract IAdmissionLimiter Limiter { get; }

    /// <summary>Window for tests that wait for time to pass (fake time in memory, real time on Redis).</summary>
    protected virtual TimeSpan ShortWindow => TimeSpan.FromSeconds(1);

    /// <summary>Extra wait on top of a computed retry-after (real clocks and round trips).</summary>
    protected virtual TimeSpan RetrySlack => TimeSpan.Zero;

    /// <summary>Extra admissions tolerated in the concurrency test (a window boundary may fall inside it).</summary>
    protected virtual int ConcurrencyTolerance => 0;

    protected abstract Task AdvanceAsync(TimeSpan by);

    private protected static string NewId() => Guid.NewGuid().ToString("N");

    [StoreFact]
    public async Task ReserveAsync_UnderLimits_AdmitsWithTightestStatus()
    {
        var key = NewId();
        var rules = new[] { Key(key, 5, 1_000), Team(NewId(), 100, 600) };

        var decision = await Limiter.ReserveAsync(rules, 100, default);

        Assert.Equal(RateLimitOutcome.Admitted, decision.Outcome);
        Assert.True(decision.IsAdmitted);
        Assert.Equal(new LimitScope(LimitScopeKind.Key, key), decision.Reservation.Requests!.Scope);
        Assert.Equal(5, decision.Reservation.Requests.Limit);
        Assert.Equal(4, decision.Reservation.Requests.Remaining);
        Assert.Equal(LimitScopeKind.Team, decision.Reservation.Tokens!.Scope.Kind);
        Assert.Equal(600, decision.Reservation.Tokens.Limit);
        Assert.Equal(500, decision.Reservation.Tokens.Remaining);
        Assert.InRange(decision.Reservation.Tokens.ResetAfter, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2));
        Assert.False(decision.Reservation.IsDegraded);
    }

    [StoreFact]
    public async Task ReserveAsync_NoRules_AdmitsWithoutStatus()
    {
        var decision = await Limiter.ReserveAsync([], 10, default);

        Assert.True(decision.IsAdmitted);
        Assert.Null(decision.Reservation.Requests);
        Assert.Null(decision.Reservation.Tokens);
    }

    [StoreFact]
    public async Task ReserveAsync_RequestLimitReached_RejectsWithRetryAfter()
    {
        var rules = new[] { Key(NewId(), 3, null) };
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await Limiter.ReserveAsync(rules, 0, default)).IsAdmitted);
        }

        var decision = await Limiter.ReserveAsync(rules, 0, default);

        Assert.Equal(RateLimitOutcome.Rejected, decision.Outcome);
        var rejection = decision.Rejection!;
        Assert.Equal(LimitDimension.Requests, rejection.Dimension);
        Assert.Equal(3, rejection.Limit);
        Assert.Equal(1, rejection.Requested);
        Assert.InRange(rejection.RetryAfter!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(2));
        Assert.Equal(0, rejection.Requests!.Remaining);
    }

    [StoreFact]
    public async Task ReserveAsync_TokenLimitReached_RejectsOnTokens()
    {
        var rules = new[] { Key(NewId(), 100, 1_000) };
        Assert.True((await Limiter.ReserveAsync(rules, 400, default)).IsAdmitted);
        Assert.True((await Limiter.ReserveAsync(rules, 400, default)).IsAdmitted);

        var decision = await Limiter.ReserveAsync(rules, 400, default);

        Assert.Equal(LimitDimension.Tokens, decision.Rejection!.Dimension);
        Assert.Equal(1_000, decision.Rejection.Limit);
        Assert.Equal(400, decision.Rejection.Requested);
        Assert.NotNull(decision.Rejection.RetryAfter);
        Assert.True((await Limiter.ReserveAsync(rules, 200, default)).IsAdmitted);
    }

    [StoreFact]
    public async Task ReserveAsync_MoreTokensThanLimit_RejectsWithoutRetryAfter()
    {
        var decision = await Limiter.ReserveAsync([Key(NewId(), 100, 1_000)], 1_001, default);

        Assert.Equal(RateLimitOutcome.Rejected, decision.Outcome);
        Assert.Equal(LimitDimension.Tokens, decision.Rejection!.Dimension);
        Assert.Null(decision.Rejection.RetryAfter);
    }

    [StoreFact]
    public async Task ReserveAsync_OneScopeFull_RejectsAndConsumesNothingElsewhere()
    {
        var team = NewId();
        var key = NewId();
        Assert.True((await Limiter.ReserveAsync([Key(NewId(), 10, null), Team(team, 1, null)], 50, default)).IsAdmitted);

        var decision = await Limiter.ReserveAsync([Key(key, 10, 1_000), Team(team, 1, null)], 50, default);

        Assert.Equal(LimitScopeKind.Team, decision.Rejection!.Scope.Kind);
        var keyOnly = await Limiter.ReserveAsync([Key(key, 10, 1_000)], 0, default);
        Assert.Equal(9, keyOnly.Reservation!.Requests!.Remaining);
        Assert.Equal(1_000, keyOnly.Reservation.Tokens!.Remaining);
    }

    [StoreFact]
    public async Task ReserveAsync_SameScopeTwice_ChargesOnceWithLowestLimit()
    {
        var key = NewId();

        var decision = await Limiter.ReserveAsync([Key(key, 10, null), Key(key, 4, null)], 0, default);

        Assert.Equal(4, decision.Reservation!.Requests!.Limit);
        Assert.Equal(3, decision.Reservation.Requests.Remaining);
    }

    [StoreFact]
    public async Task SettleAsync_FewerTokens_RefundsDifference()
    {
        var rules = new[] { Key(NewId(), 100, 1_000) };
        var first = await Limiter.ReserveAsync(rules, 800, default);
        Assert.False((await Limiter.ReserveAsync(rules, 900, default)).IsAdmitted);

        await Limiter.SettleAsync(first.Reservation!, 100, default);

        var next = await Limiter.ReserveAsync(rules, 900, default);
        Assert.True(next.IsAdmitted);
        Assert.Equal(0, next.Reservation.Tokens!.Remaining);
    }

    [StoreFact]
    public async Task SettleAsync_ZeroTokensForFailedRequest_RefundsAllTokensButNotTheRequest()
    {
        var rules = new[] { Key(NewId(), 2, 1_000) };
        var first = await Limiter.ReserveAsync(rules, 1_000, default);

        await Limiter.SettleAsync(first.Reservation!, 0, default);

        var next = await Limiter.ReserveAsync(rules, 1_000, default);
        Assert.True(next.IsAdmitted);
        Assert.Equal(0, next.Reservation.Requests!.Remaining);
    }

    [StoreFact]
    public async Task SettleAsync_MoreTokens_DebitsDifference()
    {
        var rules = new[] { Key(NewId(), 100, 1_000) };
        var first = await Limiter.ReserveAsync(rules, 100, default);

        await Limiter.SettleAsync(first.Reservation!, 900, default);

        Assert.Equal(LimitDimension.Tokens, (await Limiter.ReserveAsync(rules, 200, default)).Rejection!.Dimension);
        Assert.True((await Limiter.ReserveAsync(rules, 100, default)).IsAdmitted);
    }

    [StoreFact]
    public async Task SettleAsync_CalledTwice_SecondIsIgnored()
    {
        var rules = new[] { Key(NewId(), 100, 1_000) };
        var first = await Limiter.ReserveAsync(rules, 500, default);

        await Limiter.SettleAsync(first.Reservation!, 0, default);
        await Limiter.SettleAsync(first.Reservation!, 0, default);

        var next = await Limiter.ReserveAsync(rules, 1_000, default);
        Assert.True(next.IsAdmitted);
        Assert.False((await Limiter.ReserveAsync(rules, 1, default)).IsAdmitted);
    }

    [StoreFact]
    public async Task SettleAsync_MultiScope_AdjustsEveryScope()
    {
        var key = NewId();
        var team = NewId();
        var first = await Limiter.ReserveAsync([Key(key, 100, 1_000), Team(team, 100, 2_000)], 1_000, default);

        await Limiter.SettleAsync(first.Reservation!, 250, default);

        var next = await Limiter.ReserveAsync([Key(key, 100, 1_000), Team(team, 100, 2_000)], 0, default);
        Assert.Equal(750, next.Reservation!.Tokens!.Remaining);
        Assert.Equal(LimitScopeKind.Key, next.Reservation.Tokens.Scope.Kind);
        var teamOnly = await Limiter.ReserveAsync([Team(team, 100, 2_000)], 0, default);
        Assert.Equal(1_750, teamOnly.Reservation!.Tokens!.Remaining);
    }

    [StoreFact]
    public async Task ReserveAsync_ManyConcurrent_AdmitsExactlyTheLimit()
    {
        var rules = new[] { Key(NewId(), 100, null), Team(NewId(), null, 1_000_000) };

        var decisions = await Task.WhenAll(Enumerable.Range(0, 300).Select(_ => Task.Run(async () => await Limiter.ReserveAsync(rules, 10, default))));

        Assert.InRange(decisions.Count(d => d.IsAdmitted), 100, 100 + ConcurrencyTolerance);
        Assert.All(decisions.Where(d => !d.IsAdmitted), d => Assert.Equal(LimitDimension.Requests, d.Rejection!.Dimension));
    }

    [StoreFact]
    public async Task ReserveAsync_ManyConcurrentOnTokens_AdmitsExactlyTheLimit()
    {
        var rules = new[] { Key(NewId(), null, 10_000) };

        var decisions = await Task.WhenAll(Enumerable.Range(0, 300).Select(_ => Task.Run(async () => await Limiter.ReserveAsync(rules, 100, default))));

        Assert.InRange(decisions.Count(d => d.IsAdmitted), 100, 100 + ConcurrencyTolerance);
    }

    [StoreFact]
    public async Task ReserveAsync_AfterRetryAfter_Admits()
    {
        var rules = new[] { Key(NewId(), 5, null, ShortWindow) };
        for (var i = 0; i < 5; i++)
        {
            await Limiter.ReserveAsync(rules, 0, default);
        }

        var rejected = await Limiter.ReserveAsync(rules, 0, default);
        Assert.False(rejected.IsAdmitted);

        await AdvanceAsync(rejected.Rejection!.RetryAfter!.Value + RetrySlack);

        Assert.True((await Limiter.ReserveAsync(rules, 0, default)).IsAdmitted);
    }

    [StoreFact]
    public async Task ReserveAsync_TwoWindowsLater_HasFullLimitAgain()
    {
        var rules = new[] { Key(NewId(), 5, 500, ShortWindow) };
        for (var i = 0; i < 5; i++)
        {
            await Limiter.ReserveAsync(rules, 100, default);
        }

        await AdvanceAsync((2 * ShortWindow) + RetrySlack);

        var decision = await Limiter.ReserveAsync(rules, 100, default);
        Assert.Equal(4, decision.Reservation!.Requests!.Remaining);
        Assert.Equal(400, decision.Reservation.Tokens!.Remaining);
    }
}
