using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiGateway.RateLimiting;

/// <summary>
/// The pipeline-facing limiter: normalizes rules, asks the store, turns its snapshots into headers or a
/// rejection, applies the outage policy, and records metrics.
/// </summary>
internal sealed class AdmissionLimiter : IAdmissionLimiter
{
    private readonly IRateLimitStore _store;
    private readonly RateLimitingMetrics _metrics;
    private readonly ILogger<AdmissionLimiter> _logger;
    private readonly TimeProvider _timeProvider;
    private readonly RateLimitFailureMode _failureMode;
    private readonly TimeSpan _outageLogInterval;
    private long _nextOutageLogTimestamp = long.MinValue;
    private int _inOutage;

    public AdmissionLimiter(
        IRateLimitStore store,
        RateLimitingMetrics metrics,
        IOptions<RateLimitOptions> options,
        TimeProvider timeProvider,
        ILogger<AdmissionLimiter> logger)
    {
        _store = store;
        _metrics = metrics;
        _logger = logger;
        _timeProvider = timeProvider;
        _failureMode = options.Value.FailureMode;
        _outageLogInterval = options.Value.OutageLogInterval;
    }

    public async ValueTask<RateLimitDecision> ReserveAsync(IReadOnlyList<LimitRule> rules, int estimatedTokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentOutOfRangeException.ThrowIfNegative(estimatedTokens);
        cancellationToken.ThrowIfCancellationRequested();

        var normalized = Normalize(rules);
        if (normalized.Count == 0)
        {
            return RateLimitDecision.Admit(new RateLimitReservation([], [], estimatedTokens, null, null, isDegraded: false));
        }

        StoreReservation result;
        try
        {
            // The store call is deliberately not cancellable: once sent, a half-observed reservation would leak
            // until its window ends. Its duration is bounded by the store's own timeout instead.
            result = await _store.ReserveAsync(normalized, estimatedTokens).ConfigureAwait(false);
        }
        catch (RateLimitStoreUnavailableException ex)
        {
            OnStoreFailure("reserve", ex);
            return _failureMode == RateLimitFailureMode.FailOpen
                ? RateLimitDecision.Admit(RateLimitReservation.Degraded(estimatedTokens))
                : RateLimitDecision.Unavailable;
        }

        OnStoreSuccess();
        var decision = Evaluate(normalized, result, estimatedTokens);
        if (decision.Rejection is { } rejection)
        {
            _metrics.Rejected(rejection.Scope.Kind, rejection.Dimension);
        }

        return decision;
    }

    public async ValueTask SettleAsync(RateLimitReservation reservation, int actualTokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        ArgumentOutOfRangeException.ThrowIfNegative(actualTokens);
        if (reservation.IsDegraded || reservation.Rules.Count == 0 || !reservation.TryMarkSettled())
        {
            return;
        }

        long delta = actualTokens - reservation.ReservedTokens;
        if (delta == 0)
        {
            return;
        }

        try
        {
            await _store.AdjustAsync(reservation.Rules, reservation.WindowIndexes, 0, delta).ConfigureAwait(false);
            OnStoreSuccess();
        }
        catch (RateLimitStoreUnavailableException ex)
        {
            // Settlement is best effort during an outage: the reservation simply stays charged until its window ends.
            OnStoreFailure("settle", ex);
        }
    }

    /// <summary>Merges rules that share a counter (same scope and window), keeping the lowest limits.</summary>
    internal static IReadOnlyList<LimitRule> Normalize(IReadOnlyList<LimitRule> rules)
    {
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i] ?? throw new ArgumentException("Rules must not contain null.", nameof(rules));
            if (rule.Window < TimeSpan.FromSeconds(1) || rule.Window.Ticks % TimeSpan.TicksPerMillisecond != 0)
            {
                throw new ArgumentException($"Rule window must be at least 1 s in whole milliseconds (was {rule.Window}).", nameof(rules));
            }

            if (rule.Requests < 0 || rule.Tokens < 0)
            {
                throw new ArgumentException("Rule limits must not be negative.", nameof(rules));
            }
        }

        var keys = new string[rules.Count];
        var duplicates = false;
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = rules[i].CounterKey;
            for (var j = 0; j < i && !duplicates; j++)
            {
                duplicates = keys[j] == keys[i];
            }
        }

        if (!duplicates)
        {
            return rules;
        }

        var merged = new List<LimitRule>(rules.Count);
        var mergedKeys = new List<string>(rules.Count);
        for (var i = 0; i < keys.Length; i++)
        {
            var index = mergedKeys.IndexOf(keys[i]);
            if (index < 0)
            {
                merged.Add(rules[i]);
                mergedKeys.Add(keys[i]);
            }
            else
            {
                var existing = merged[index];
                merged[index] = existing with { Requests = Min(existing.Requests, rules[i].Requests), Tokens = Min(existing.Tokens, rules[i].Tokens) };
            }
        }

        return merged;
    }

    /// <summary>Turns the store's snapshots (taken before charging) into a decision with header values.</summary>
    internal static RateLimitDecision Evaluate(IReadOnlyList<LimitRule> rules, StoreReservation result, int tokens)
    {
        RateLimitStatus? requests = null;
        RateLimitStatus? tokenStatus = null;
        var charged = result.Admitted ? 1 : 0;

        LimitRule? worstRule = null;
        var worstDimension = LimitDimension.Requests;
        long worstRequested = 0;
        long? worstWait = 0;

        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            var s = result.Snapshots[i];
            var w = rule.WindowMs;
            var elapsed = s.NowMs % w;

            if (rule.Requests is { } rpm)
            {
                var current = s.CurrentRequests + charged;
                requests = Tighter(requests, Status(rule, LimitDimension.Requests, rpm, current, s.PreviousRequests, elapsed));
                if (!result.Admitted)
                {
                    Consider(rule, LimitDimension.Requests, 1, SlidingWindow.RetryAfterMs(s.CurrentRequests, s.PreviousRequests, elapsed, w, 1, rpm));
                }
            }

            if (rule.Tokens is { } tpm)
            {
                var current = s.CurrentTokens + ((long)tokens * charged);
                tokenStatus = Tighter(tokenStatus, Status(rule, LimitDimension.Tokens, tpm, current, s.PreviousTokens, elapsed));
                if (!result.Admitted)
                {
                    Consider(rule, LimitDimension.Tokens, tokens, SlidingWindow.RetryAfterMs(s.CurrentTokens, s.PreviousTokens, elapsed, w, tokens, tpm));
                }
            }
        }

        if (result.Admitted)
        {
            var windows = new long[rules.Count];
            for (var i = 0; i < windows.Length; i++)
            {
                windows[i] = result.Snapshots[i].NowMs / rules[i].WindowMs;
            }

            return RateLimitDecision.Admit(new RateLimitReservation(rules, windows, tokens, requests, tokenStatus, isDegraded: false));
        }

        if (worstRule is null)
        {
            // The store rejected, yet every limit fits on its snapshot: only when a cluster spread the scopes over
            // shards and another request's compensation freed room in between. Report the first limit, retry at once.
            worstRule = rules[0];
            worstDimension = worstRule.Requests is null && worstRule.Tokens is not null ? LimitDimension.Tokens : LimitDimension.Requests;
            worstRequested = worstDimension == LimitDimension.Requests ? 1 : tokens;
            worstWait = 1;
        }

        return RateLimitDecision.Reject(new RateLimitRejection(
            worstRule.Scope,
            worstDimension,
            (worstDimension == LimitDimension.Requests ? worstRule.Requests : worstRule.Tokens) ?? 0,
            worstRequested,
            worstWait is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
            requests,
            tokenStatus));

        void Consider(LimitRule rule, LimitDimension dimension, long requested, long? wait)
        {
            if (wait == 0)
            {
                return;
            }

            // The request needs every limit; the one that frees up last (or never) is the one to report.
            if (worstRule is null || (worstWait is not null && (wait is null || wait > worstWait)))
            {
                worstRule = rule;
                worstDimension = dimension;
                worstRequested = requested;
                worstWait = wait;
            }
        }
    }

    private static RateLimitStatus Status(LimitRule rule, LimitDimension dimension, long limit, long current, long previous, long elapsed) =>
        new(
            rule.Scope,
            dimension,
            limit,
            SlidingWindow.Remaining(current, previous, elapsed, rule.WindowMs, limit),
            TimeSpan.FromMilliseconds(SlidingWindow.ResetAfterMs(current, previous, elapsed, rule.WindowMs)));

    private static RateLimitStatus Tighter(RateLimitStatus? a, RateLimitStatus b) =>
        a is null || b.Remaining < a.Remaining || (b.Remaining == a.Remaining && b.Limit < a.Limit) ? b : a;

    private static long? Min(long? a, long? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);

    private void OnStoreFailure(string operation, RateLimitStoreUnavailableException exception)
    {
        _metrics.StoreFailed(operation, _failureMode);
        Volatile.Write(ref _inOutage, 1);
        var now = _timeProvider.GetTimestamp();
        var next = Volatile.Read(ref _nextOutageLogTimestamp);
        if (now >= next
            && Interlocked.CompareExchange(ref _nextOutageLogTimestamp, now + (long)(_outageLogInterval.TotalSeconds * _timeProvider.TimestampFrequency), next) == next)
        {
            RateLimitingLog.StoreUnavailable(_logger, operation, _failureMode, _outageLogInterval, exception);
        }
    }

    private void OnStoreSuccess()
    {
        if (Volatile.Read(ref _inOutage) == 1 && Interlocked.Exchange(ref _inOutage, 0) == 1)
        {
            RateLimitingLog.StoreRecovered(_logger);
        }
    }
}
