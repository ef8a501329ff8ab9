using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using AiGateway.Configuration;
using AiGateway.Pipeline;
using AiGateway.Protocol;

namespace AiGateway.Observability;

/// <summary>
/// The gateway's request instruments: the OpenTelemetry GenAI client and server metrics, and the
/// gateway's own (requests by route, model and status; requests and streams in flight; gateway overhead;
/// upstream time to first byte; cost). Label values come only from config (model, deployment and
/// provider names), the fixed routes, and fixed sets; never from a key, a user or a request body.
/// </summary>
internal sealed class GatewayMetrics
{
    public const string MeterName = "AiGateway";

    // Bucket boundaries recommended by the GenAI semantic conventions.
    private static readonly double[] DurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    private static readonly long[] TokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
    private static readonly double[] FirstTokenBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
    private static readonly double[] PerTokenBuckets = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];

    // The gateway's own work is measured in microseconds to milliseconds.
    private static readonly double[] OverheadBuckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

    private readonly Histogram<long> _tokenUsage;
    private readonly Histogram<double> _operationDuration;
    private readonly Histogram<double> _timeToFirstToken;
    private readonly Histogram<double> _timePerOutputToken;
    private readonly Counter<long> _requests;
    // In-flight gauges are plain counters read at collection time: two instrument recordings per request (with a
    // tag lookup each) cost more than an interlocked add on a counter the request keeps.
    private readonly ConcurrentDictionary<string, StrongBox<long>> _activeRequests = new(StringComparer.Ordinal);
    private long _activeStreams;
    private readonly Histogram<double> _overhead;
    private readonly Histogram<double> _upstreamFirstByte;
    private readonly Counter<double> _cost;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _tokenUsage = meter.CreateHistogram(
            "gen_ai.client.token.usage",
            unit: "{token}",
            description: "Input and output tokens used per request, as reported by the provider (or counted by the gateway when a stream ended without usage).",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = TokenBuckets });
        _operationDuration = meter.CreateHistogram(
            "gen_ai.client.operation.duration",
            unit: "s",
            description: "Duration of a GenAI request through the gateway, from its arrival to the last byte of the answer.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _timeToFirstToken = meter.CreateHistogram(
            "gen_ai.server.time_to_first_token",
            unit: "s",
            description: "Time from a streamed request's arrival to its first streamed event reaching the client.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = FirstTokenBuckets });
        _timePerOutputToken = meter.CreateHistogram(
            "gen_ai.server.time_per_output_token",
            unit: "s",
            description: "Time per output token after the first one, for streamed requests.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = PerTokenBuckets });
        _requests = meter.CreateCounter<long>(
            "aigateway.requests",
            unit: "{request}",
            description: "Requests served, by route, public model, deployment, status code and cache result.");
        meter.CreateObservableUpDownCounter(
            "aigateway.requests.active",
            ObserveActiveRequests,
            unit: "{request}",
            description: "Requests in flight, by route.");
        meter.CreateObservableUpDownCounter(
            "aigateway.streams.active",
            () => Volatile.Read(ref _activeStreams),
            unit: "{stream}",
            description: "Event streams being relayed to clients.");
        _overhead = meter.CreateHistogram(
            "aigateway.request.overhead",
            unit: "s",
            description: "Time a forwarded request spent in the gateway outside the upstream exchange: its total duration minus the time of its upstream attempts (which include relaying the body).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = OverheadBuckets });
        _upstreamFirstByte = meter.CreateHistogram(
            "aigateway.upstream.time_to_first_byte",
            unit: "s",
            description: "Time from sending a request upstream to the upstream's response headers, per attempt.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _cost = meter.CreateCounter<double>(
            "aigateway.cost.usd",
            // An annotation, not a UCUM unit: Prometheus gets aigateway_cost_usd_total rather than a _USD suffix.
            unit: "{USD}",
            description: "Estimated spend in US dollars from the catalog's per-model prices and the reported usage.");
    }

    /// <summary>Counts a request in flight on its route; the caller hands the returned counter to <see cref="RequestEnded"/>.</summary>
    public StrongBox<long> RequestStarted(string route)
    {
        // Routes are the app's fixed route patterns (and "unmatched"), so the set stays small.
        var counter = _activeRequests.GetOrAdd(route, static _ => new StrongBox<long>());
        Interlocked.Increment(ref counter.Value);
        return counter;
    }

    public static void RequestEnded(StrongBox<long> counter) => Interlocked.Decrement(ref counter.Value);

    public void StreamStarted() => Interlocked.Increment(ref _activeStreams);

    public void StreamEnded() => Interlocked.Decrement(ref _activeStreams);

    private IEnumerable<Measurement<long>> ObserveActiveRequests()
    {
        foreach (var (route, counter) in _activeRequests)
        {
            yield return new Measurement<long>(Volatile.Read(ref counter.Value), new KeyValuePair<string, object?>(GenAiAttributes.HttpRoute, route));
        }
    }

    public void UpstreamFirstByte(Deployment deployment, TimeSpan elapsed) =>
        _upstreamFirstByte.Record(
            elapsed.TotalSeconds,
            new KeyValuePair<string, object?>(GenAiAttributes.ProviderName, GenAiAttributes.Provider(deployment.Cluster.Adapter.Name)),
            new KeyValuePair<string, object?>(GenAiAttributes.Deployment, deployment.Name));

    /// <summary>Records one finished request. <paramref name="request"/> is null for requests that never resolved a model.</summary>
    public void RequestCompleted(string route, int status, string cacheResult, AiRequest? request)
    {
        var tags = new TagList
        {
            { GenAiAttributes.HttpRoute, route },
            { GenAiAttributes.HttpStatusCode, GenAiAttributes.Status(status) },
            { GenAiAttributes.CacheResult, cacheResult },
        };
        if (request is not null)
        {
            tags.Add(GenAiAttributes.RequestModel, request.Model.Name);
            if (request.Deployment is { } deployment) tags.Add(GenAiAttributes.Deployment, deployment.Name);
        }
        _requests.Add(1, tags);
    }

    /// <summary>Records the GenAI metrics, overhead and cost of a request that resolved a model.</summary>
    public void GenAiCompleted(AiRequest request, RequestTelemetry telemetry, TimeSpan duration, long endTimestamp, string? errorType)
    {
        var deployment = request.Deployment!;
        var tags = new TagList
        {
            { GenAiAttributes.OperationName, request.Operation.Name() },
            { GenAiAttributes.ProviderName, GenAiAttributes.Provider(deployment.Cluster.Adapter.Name) },
            { GenAiAttributes.RequestModel, request.Model.Name },
            { GenAiAttributes.Deployment, deployment.Name },
        };
        if (errorType is not null)
        {
            tags.Add(GenAiAttributes.ErrorType, errorType);
        }
        else
        {
            // The upstream model name from the catalog: the response body is not parsed for it.
            tags.Add(GenAiAttributes.ResponseModel, deployment.UpstreamModel);
        }
        _operationDuration.Record(duration.TotalSeconds, tags);

        if (telemetry.Attempts > 0)
        {
            var overhead = duration - telemetry.UpstreamTime;
            _overhead.Record(Math.Max(0, overhead.TotalSeconds), tags);
        }

        if (request.Usage is not { } usage) return;

        var input = tags;
        input.Add(GenAiAttributes.TokenType, GenAiAttributes.TokenTypeInput);
        _tokenUsage.Record(usage.PromptTokens, input);
        if (request.Operation != AiOperation.Embeddings)
        {
            var output = tags;
            output.Add(GenAiAttributes.TokenType, GenAiAttributes.TokenTypeOutput);
            _tokenUsage.Record(usage.CompletionTokens, output);
        }

        if (errorType is null && telemetry.FirstEventTimestamp != 0)
        {
            _timeToFirstToken.Record(telemetry.Time.GetElapsedTime(telemetry.StartTimestamp, telemetry.FirstEventTimestamp).TotalSeconds, tags);
            if (usage.CompletionTokens > 1)
            {
                var generating = telemetry.Time.GetElapsedTime(telemetry.FirstEventTimestamp, endTimestamp);
                _timePerOutputToken.Record(generating.TotalSeconds / (usage.CompletionTokens - 1), tags);
            }
        }

        if (request.Model.Pricing is { } pricing)
        {
            var cost = pricing.Cost(usage);
            if (cost > 0)
            {
                _cost.Add(
                    cost,
                    new KeyValuePair<string, object?>(GenAiAttributes.ProviderName, tags[1].Value),
                    new KeyValuePair<string, object?>(GenAiAttributes.RequestModel, request.Model.Name),
                    new KeyValuePair<string, object?>(GenAiAttributes.Deployment, deployment.Name));
            }
        }
    }
}

/// <summary>
/// The <c>aigateway.cache.result</c> label: the response cache reports its decision in the
/// <c>x-gateway-cache</c> response header; any value outside this fixed set is reported as <c>other</c>.
/// </summary>
internal static class CacheResults
{
    public const string Header = "x-gateway-cache";
    public const string None = "none";
    public const string Hit = "hit";
    public const string Miss = "miss";
    public const string Bypass = "bypass";
    public const string Stale = "stale";
    public const string Other = "other";

    public static string FromHeader(string? value) => value switch
    {
        null or "" => None,
        _ when value.Equals(Hit, StringComparison.OrdinalIgnoreCase) => Hit,
        _ when value.Equals(Miss, StringComparison.OrdinalIgnoreCase) => Miss,
        _ when value.Equals(Bypass, StringComparison.OrdinalIgnoreCase) => Bypass,
        _ when value.Equals(Stale, StringComparison.OrdinalIgnoreCase) => Stale,
        _ => Other,
    };
}
