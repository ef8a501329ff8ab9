using System.Diagnostics.Metrics;

namespace AiGateway.RateLimiting;

/// <summary>Rate limiting instruments. Labels come from fixed sets only (scope kind, dimension, operation, mode).</summary>
internal sealed class RateLimitingMetrics
{
    public const string MeterName = "AiGateway.RateLimiting";

    private readonly Counter<long> _rejections;
    private readonly Counter<long> _storeFailures;

    public RateLimitingMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _rejections = meter.CreateCounter<long>(
            "aigateway.ratelimit.rejections",
            unit: "{request}",
            description: "Requests rejected by a rate limit, by the kind of scope and the dimension that rejected them.");
        _storeFailures = meter.CreateCounter<long>(
            "aigateway.ratelimit.store_failures",
            unit: "{operation}",
            description: "Rate-limit store operations that failed (Redis unreachable or too slow), by operation and failure mode.");
    }

    public void Rejected(LimitScopeKind kind, LimitDimension dimension) =>
        _rejections.Add(
            1,
            new KeyValuePair<string, object?>("scope", LimitScope.KindLabel(kind)),
            new KeyValuePair<string, object?>("dimension", DimensionName(dimension)));

    /// <param name="operation"><c>reserve</c> or <c>settle</c>.</param>
    public void StoreFailed(string operation, RateLimitFailureMode mode) =>
        _storeFailures.Add(
            1,
            new KeyValuePair<string, object?>("operation", operation),
            new KeyValuePair<string, object?>("mode", mode == RateLimitFailureMode.FailOpen ? "fail_open" : "fail_closed"));

    internal static string DimensionName(LimitDimension dimension) =>
        dimension == LimitDimension.Requests ? "requests" : "tokens";
}
