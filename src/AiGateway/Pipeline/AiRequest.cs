using AiGateway.Auth;
using AiGateway.Configuration;
using AiGateway.Protocol;

namespace AiGateway.Pipeline;

/// <summary>Why an attempt failed, and what the client gets if no other attempt follows.</summary>
/// <param name="Status">The status the client would see.</param>
/// <param name="Body">The OpenAI-shaped (or surface-shaped) error body the client would see; null for transport failures.</param>
/// <param name="RetryAfter">The provider's requested back-off, if it sent one.</param>
/// <param name="Reason">A short label for logs and metrics: <c>status_429</c>, <c>timeout</c>, <c>unreachable</c>.</param>
internal sealed record AttemptFailure(int Status, byte[]? Body, TimeSpan? RetryAfter, string Reason);

/// <summary>
/// The per-request state every pipeline step reads and writes, so the body is read and parsed once.
/// Stored as an HttpContext feature.
/// </summary>
internal sealed class AiRequest
{
    public required AiOperation Operation { get; init; }
    public required GatewayConfig Config { get; init; }
    public required GatewayCaller Caller { get; init; }

    /// <summary>The client's body as received, or as prompt transforms rewrote it (then re-scanned into <see cref="Scanned"/>).</summary>
    public required ReadOnlyMemory<byte> Body { get; set; }

    public required ScannedRequest Scanned { get; set; }
    /// <summary>The model being served: the requested one, or a fallback after a failover.</summary>
    public required CatalogModel Model { get; set; }

    /// <summary>The deployment chosen for the current attempt.</summary>
    public Deployment? Deployment { get; set; }

    public string RequestId { get; init; } = "";

    /// <summary>The client's own abort signal; <c>HttpContext.RequestAborted</c> is swapped per attempt to carry attempt deadlines.</summary>
    public CancellationToken ClientAborted { get; set; }

    /// <summary>Attempts made so far (1 for a request served at once).</summary>
    public int Attempts { get; set; }

    /// <summary>Whether the answer comes from a fallback model rather than the requested one.</summary>
    public bool IsFallback { get; set; }

    /// <summary>Deployments this request has tried, so a retry goes elsewhere first.</summary>
    public List<Deployment> Tried { get; } = new(2);

    /// <summary>Whether a failed attempt may still be retried: the transforms then hold back its error instead of sending it.</summary>
    public bool MayRetry { get; set; }

    /// <summary>Set when an attempt failed before anything reached the client and the failure is worth another attempt.</summary>
    public AttemptFailure? Failure { get; set; }

    /// <summary>
    /// Set when the upstream broke off or went silent mid-answer and the gateway ended the response itself (an
    /// error event, or a cut connection). The cut aborts the client's connection too: passive health tells it apart
    /// from a client that left.
    /// </summary>
    public bool UpstreamBroke { get; set; }

    /// <summary>Deadline of the current attempt's first byte; cancelled-and-reset by the relay when the first byte arrives.</summary>
    public Resilience.AttemptClock? Clock { get; set; }

    /// <summary>Prompt tokens as counted by the gateway; 0 when no limit or window needed the count.</summary>
    public int PromptTokens { get; set; }

    /// <summary>Tokens held in the rate limits for this request: the prompt plus its completion budget.</summary>
    public long ReservedTokens { get; set; }

    /// <summary>Usage reported by the upstream (or the mock), once the response has been relayed.</summary>
    public TokenUsage? Usage { get; set; }

    /// <summary>The text a stream carried when it ended without usage, for counting completion tokens.</summary>
    public string? StreamedText { get; set; }

    /// <summary>Redaction restore and output guardrails the response relay applies; null when none apply.</summary>
    public PromptTransforms.ResponseFilter? ResponseFilter { get; set; }

    /// <summary>Timing for metrics, spans and the access log; null when the request is not measured.</summary>
    public Observability.RequestTelemetry? Telemetry { get; init; }
}
