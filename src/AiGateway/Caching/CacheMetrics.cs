using System.Diagnostics.Metrics;
using AiGateway.Protocol;

namespace AiGateway.Caching;

/// <summary>Response-cache instruments. Labels come from fixed sets only (result, operation, reason).</summary>
internal sealed class CacheMetrics
{
    public const string MeterName = "AiGateway.Caching";

    private readonly Counter<long> _requests;
    private readonly Counter<long> _stored;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _servedTokens;
    private readonly Counter<long> _distributedFailures;

    public CacheMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>(
            "aigateway.cache.requests",
            unit: "{request}",
            description: "Cacheable requests by what the cache did: hit, miss, refresh or bypass.");
        _stored = meter.CreateCounter<long>(
            "aigateway.cache.entries_stored",
            unit: "{entry}",
            description: "Answers stored in the response cache.");
        _rejected = meter.CreateCounter<long>(
            "aigateway.cache.entries_rejected",
            unit: "{entry}",
            description: "Answers to cacheable requests that were not stored, by reason (error, tool_calls, incomplete, too_large, format, status).");
        _servedTokens = meter.CreateCounter<long>(
            "aigateway.cache.served_tokens",
            unit: "{token}",
            description: "Prompt plus completion tokens of answers served from the cache instead of a provider.");
        _distributedFailures = meter.CreateCounter<long>(
            "aigateway.cache.distributed_failures",
            unit: "{operation}",
            description: "Redis (L2) cache operations that failed or were skipped while Redis was unavailable, by operation and reason.");
    }

    /// <param name="result"><c>hit</c>, <c>miss</c>, <c>refresh</c> or <c>bypass</c>.</param>
    public void Request(string result, AiOperation operation) =>
        _requests.Add(1, new KeyValuePair<string, object?>("result", result), new KeyValuePair<string, object?>("operation", operation.Name()));

    public void Stored(AiOperation operation) =>
        _stored.Add(1, new KeyValuePair<string, object?>("operation", operation.Name()));

    public void Rejected(string reason) =>
        _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void ServedTokens(AiOperation operation, long tokens) =>
        _servedTokens.Add(tokens, new KeyValuePair<string, object?>("operation", operation.Name()));

    /// <param name="operation"><c>get</c>, <c>set</c>, <c>remove</c> or <c>refresh</c>.</param>
    /// <param name="reason"><c>error</c>, <c>timeout</c> or <c>unavailable</c> (skipped while Redis is known to be down).</param>
    public void DistributedFailed(string operation, string reason) =>
        _distributedFailures.Add(1, new KeyValuePair<string, object?>("operation", operation), new KeyValuePair<string, object?>("reason", reason));
}
