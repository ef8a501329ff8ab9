using AiGateway.Configuration;

namespace AiGateway.Observability;

/// <summary>
/// Per-request timing shared by the telemetry middleware, the upstream attempts and the response relays
/// (an HttpContext feature, also reachable as <c>AiRequest.Telemetry</c>). Timestamps are
/// <see cref="TimeProvider.GetTimestamp"/> values; 0 means "not reached".
/// </summary>
internal sealed class RequestTelemetry(TimeProvider time, GatewayMetrics metrics, long startTimestamp)
{
    private string? _lastDeployment;
    private long _upstreamTicks;

    public TimeProvider Time { get; } = time;

    /// <summary>When the request reached the gateway's telemetry middleware.</summary>
    public long StartTimestamp { get; } = startTimestamp;

    /// <summary>When the current attempt's upstream response headers arrived.</summary>
    public long ResponseHeadersTimestamp { get; private set; }

    /// <summary>When the first streamed event went to the client; 0 for responses that are not streams.</summary>
    public long FirstEventTimestamp { get; private set; }

    /// <summary>Upstream attempts made so far (1 for a request answered first time, in-process answers included).</summary>
    public int Attempts { get; private set; }

    /// <summary>Total time of the upstream attempts, relaying of their bodies included.</summary>
    public TimeSpan UpstreamTime => Time.GetElapsedTime(0, _upstreamTicks);

    /// <summary>Called when upstream response headers arrive (the response transform).</summary>
    public void MarkResponseHeaders() => ResponseHeadersTimestamp = Time.GetTimestamp();

    /// <summary>Called by the stream relays after writing events; only the first call counts.</summary>
    public void MarkFirstEvent()
    {
        if (FirstEventTimestamp != 0) return;
        FirstEventTimestamp = Time.GetTimestamp();
        metrics.StreamStarted();
    }

    /// <summary>Starts an attempt: the first, a retry of the same deployment, or a fallback to another.</summary>
    internal AttemptKind BeginAttempt(Deployment deployment)
    {
        Attempts++;
        ResponseHeadersTimestamp = 0;
        var kind = _lastDeployment is null ? AttemptKind.Initial
            : _lastDeployment == deployment.Name ? AttemptKind.Retry
            : AttemptKind.Fallback;
        _lastDeployment = deployment.Name;
        return kind;
    }

    internal void EndAttempt(long startTimestamp, long endTimestamp) => _upstreamTicks += endTimestamp - startTimestamp;
}

/// <summary>Why an upstream attempt was made; the <c>aigateway.attempt.kind</c> label.</summary>
internal enum AttemptKind
{
    Initial,
    Retry,
    Fallback,
}
