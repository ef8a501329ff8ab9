using AiGateway.Auth;
using AiGateway.Configuration;
using AiGateway.Protocol;

namespace AiGateway.Pipeline;

/// <summary>
/// The per-request state every pipeline step reads and writes, so the body is read and parsed once.
/// Stored as an HttpContext feature.
/// </summary>
internal sealed class AiRequest
{
    public required AiOperation Operation { get; init; }
    public required GatewayConfig Config { get; init; }
    public required GatewayCaller Caller { get; init; }

    /// <summary>The client's body as received.</summary>
    public required ReadOnlyMemory<byte> Body { get; init; }

    public required ScannedRequest Scanned { get; init; }
    public required CatalogModel Model { get; init; }

    /// <summary>The deployment chosen for the current attempt.</summary>
    public Deployment? Deployment { get; set; }

    /// <summary>The body sent to the current deployment.</summary>
    public ReadOnlyMemory<byte> UpstreamBody { get; set; }

    public string RequestId { get; init; } = "";

    /// <summary>Prompt tokens as counted by the gateway; 0 when no limit or window needed the count.</summary>
    public int PromptTokens { get; set; }

    /// <summary>Tokens held in the rate limits for this request: the prompt plus its completion budget.</summary>
    public long ReservedTokens { get; set; }

    /// <summary>Usage reported by the upstream (or the mock), once the response has been relayed.</summary>
    public TokenUsage? Usage { get; set; }

    /// <summary>The text a stream carried when it ended without usage, for counting completion tokens.</summary>
    public string? StreamedText { get; set; }

    /// <summary>Timing for metrics, spans and the access log; null when the request is not measured.</summary>
    public Observability.RequestTelemetry? Telemetry { get; init; }
}
