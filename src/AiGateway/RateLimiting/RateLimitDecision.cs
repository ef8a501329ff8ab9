using System.Diagnostics.CodeAnalysis;

namespace AiGateway.RateLimiting;

/// <summary>How an admission ended.</summary>
internal enum RateLimitOutcome
{
    /// <summary>Admitted; every applicable scope now holds 1 request and the estimated tokens.</summary>
    Admitted,

    /// <summary>A limit is reached; nothing was consumed. Map to 429 <c>rate_limit_exceeded</c>.</summary>
    Rejected,

    /// <summary>The shared store is down and the failure mode is fail-closed. Map to 503.</summary>
    StoreUnavailable,
}

/// <summary>The state of one limit, for the <c>x-ratelimit-*</c> headers.</summary>
/// <param name="Scope">The scope the limit belongs to.</param>
/// <param name="Dimension">Requests or tokens.</param>
/// <param name="Limit">The configured limit per window.</param>
/// <param name="Remaining">Whole units still available now.</param>
/// <param name="ResetAfter">Time until the usage has fully decayed (OpenAI's "reset").</param>
internal sealed record RateLimitStatus(LimitScope Scope, LimitDimension Dimension, long Limit, long Remaining, TimeSpan ResetAfter);

/// <summary>Why a request was rejected.</summary>
/// <param name="Scope">The scope whose limit rejected it (the one that frees up last).</param>
/// <param name="Dimension">Requests or tokens.</param>
/// <param name="Limit">The configured limit per window.</param>
/// <param name="Requested">What the request asked for in that dimension (1, or the estimated tokens).</param>
/// <param name="RetryAfter">
/// When all rejecting limits will admit the same request, absent other traffic; <see langword="null"/>
/// when the request can never fit (it asks for more tokens than the limit).
/// </param>
/// <param name="Requests">Tightest request limit right now, for headers; <see langword="null"/> if none applies.</param>
/// <param name="Tokens">Tightest token limit right now, for headers; <see langword="null"/> if none applies.</param>
internal sealed record RateLimitRejection(
    LimitScope Scope,
    LimitDimension Dimension,
    long Limit,
    long Requested,
    TimeSpan? RetryAfter,
    RateLimitStatus? Requests,
    RateLimitStatus? Tokens);

/// <summary>The answer to <see cref="IAdmissionLimiter.ReserveAsync"/>.</summary>
internal sealed class RateLimitDecision
{
    private RateLimitDecision(RateLimitOutcome outcome, RateLimitReservation? reservation, RateLimitRejection? rejection)
    {
        Outcome = outcome;
        Reservation = reservation;
        Rejection = rejection;
    }

    /// <summary>A fail-closed outage; the same instance every time.</summary>
    public static RateLimitDecision Unavailable { get; } = new(RateLimitOutcome.StoreUnavailable, null, null);

    /// <summary>How admission ended.</summary>
    public RateLimitOutcome Outcome { get; }

    /// <summary>Set when admitted; settle it exactly once when the request ends, however it ends.</summary>
    public RateLimitReservation? Reservation { get; }

    /// <summary>Set when rejected.</summary>
    public RateLimitRejection? Rejection { get; }

    /// <summary>Whether the request may go upstream.</summary>
    [MemberNotNullWhen(true, nameof(Reservation))]
    public bool IsAdmitted => Outcome == RateLimitOutcome.Admitted;

    public static RateLimitDecision Admit(RateLimitReservation reservation) => new(RateLimitOutcome.Admitted, reservation, null);

    public static RateLimitDecision Reject(RateLimitRejection rejection) => new(RateLimitOutcome.Rejected, null, rejection);
}

/// <summary>
/// What an admitted request holds until it settles. Carries the header values and, for the store, the
/// windows the reservation was charged to.
/// </summary>
internal sealed class RateLimitReservation
{
    private int _settled;

    internal RateLimitReservation(
        IReadOnlyList<LimitRule> rules,
        long[] windowIndexes,
        int reservedTokens,
        RateLimitStatus? requests,
        RateLimitStatus? tokens,
        bool isDegraded)
    {
        Rules = rules;
        WindowIndexes = windowIndexes;
        ReservedTokens = reservedTokens;
        Requests = requests;
        Tokens = tokens;
        IsDegraded = isDegraded;
    }

    /// <summary>Tightest request limit after this reservation; <see langword="null"/> when none applies or degraded.</summary>
    public RateLimitStatus? Requests { get; }

    /// <summary>Tightest token limit after this reservation; <see langword="null"/> when none applies or degraded.</summary>
    public RateLimitStatus? Tokens { get; }

    /// <summary>Tokens held in every scope until settlement.</summary>
    public int ReservedTokens { get; }

    /// <summary>
    /// Admitted without counting because the store was down and the mode is fail-open; settling is a no-op
    /// and no <c>x-ratelimit-*</c> headers should be sent.
    /// </summary>
    public bool IsDegraded { get; }

    internal IReadOnlyList<LimitRule> Rules { get; }

    /// <summary>Per rule, the fixed window (index since the epoch, in that rule's window length) charged.</summary>
    internal long[] WindowIndexes { get; }

    internal static RateLimitReservation Degraded(int reservedTokens) =>
        new([], [], reservedTokens, null, null, isDegraded: true);

    /// <summary>True exactly once: the first caller settles, later calls are ignored.</summary>
    internal bool TryMarkSettled() => Interlocked.Exchange(ref _settled, 1) == 0;
}
