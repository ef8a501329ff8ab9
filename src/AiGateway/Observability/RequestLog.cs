namespace AiGateway.Observability;

/// <summary>
/// The one Information line per request (category <see cref="RequestTelemetryMiddleware.LogCategory"/>).
/// It names the key by its configured name and never carries a credential, a header or body text.
/// </summary>
internal static partial class RequestLog
{
    [LoggerMessage(
        EventId = 800,
        EventName = "RequestCompleted",
        Level = LogLevel.Information,
        Message = "{Method} {Route} {Status} {DurationMs} ms request={RequestId} key={KeyName} model={Model} deployment={Deployment} input_tokens={InputTokens} output_tokens={OutputTokens} cache={Cache} attempts={Attempts} ttft_ms={TimeToFirstTokenMs} error={ErrorType}")]
    public static partial void Completed(
        ILogger logger,
        string method,
        string route,
        int status,
        double durationMs,
        string requestId,
        string? keyName,
        string? model,
        string? deployment,
        int? inputTokens,
        int? outputTokens,
        string cache,
        int attempts,
        double? timeToFirstTokenMs,
        string? errorType);
}
