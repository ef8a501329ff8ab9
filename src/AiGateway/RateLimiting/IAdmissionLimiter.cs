namespace AiGateway.RateLimiting;

/// <summary>
/// Admission against request and token limits with reserve-then-settle, shared across replicas when the
/// store is Redis. The pipeline's TokenAdmission step reserves; the response path settles.
/// </summary>
internal interface IAdmissionLimiter
{
    /// <summary>
    /// Checks every rule at once and either reserves 1 request and <paramref name="estimatedTokens"/> in
    /// every scope, or consumes nothing.
    /// </summary>
    /// <param name="rules">All rules that apply to the request (key, team, model, deployment); may be empty.</param>
    /// <param name="estimatedTokens">Prompt tokens plus the max tokens the request may produce.</param>
    /// <param name="cancellationToken">Checked before the store is asked; the store round trip itself is bounded by its own timeout.</param>
    ValueTask<RateLimitDecision> ReserveAsync(IReadOnlyList<LimitRule> rules, int estimatedTokens, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the reserved tokens with <paramref name="actualTokens"/> (refund when lower, debit when
    /// higher; 0 for a request that failed before producing anything). Call exactly once per admitted
    /// request, also for aborted streams; later calls are ignored. Never throws for store failures.
    /// </summary>
    /// <param name="reservation">From an admitted decision.</param>
    /// <param name="actualTokens">Prompt plus completion tokens actually used.</param>
    /// <param name="cancellationToken">Do not pass <c>RequestAborted</c>: aborted requests must still settle.</param>
    ValueTask SettleAsync(RateLimitReservation reservation, int actualTokens, CancellationToken cancellationToken);
}
