namespace AiGateway.RateLimiting;

/// <summary>
/// The counters of one rule as the store saw them before charging this request.
/// </summary>
/// <param name="NowMs">Store clock, Unix milliseconds (Redis: server <c>TIME</c>).</param>
internal readonly record struct WindowSnapshot(long NowMs, long CurrentRequests, long PreviousRequests, long CurrentTokens, long PreviousTokens);

/// <summary>The outcome of an atomic check-and-charge: whether it was charged, and a snapshot per rule (same order).</summary>
internal readonly record struct StoreReservation(bool Admitted, WindowSnapshot[] Snapshots);

/// <summary>
/// Where the sliding-window counters live. Implementations decide admission atomically with
/// <see cref="SlidingWindow.Fits"/> and throw <see cref="RateLimitStoreUnavailableException"/> on outage.
/// </summary>
internal interface IRateLimitStore
{
    /// <summary>
    /// Atomically: if 1 request and <paramref name="tokens"/> fit under every limit of every rule, charge
    /// them all; otherwise charge nothing.
    /// </summary>
    /// <param name="rules">Distinct counters (no two rules with the same <see cref="LimitRule.CounterKey"/>).</param>
    ValueTask<StoreReservation> ReserveAsync(IReadOnlyList<LimitRule> rules, long tokens);

    /// <summary>
    /// Adds the deltas (negative = refund) to the windows a reservation was charged to. A refund to a window
    /// that no longer counts is dropped; a debit to such a window goes to the current window. Counters never go below zero.
    /// </summary>
    ValueTask AdjustAsync(IReadOnlyList<LimitRule> rules, long[] windowIndexes, long requestDelta, long tokenDelta);
}

/// <summary>The shared store could not be reached in time; the failure mode decides what happens.</summary>
internal sealed class RateLimitStoreUnavailableException : Exception
{
    public RateLimitStoreUnavailableException()
    {
    }

    public RateLimitStoreUnavailableException(string message)
        : base(message)
    {
    }

    public RateLimitStoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
