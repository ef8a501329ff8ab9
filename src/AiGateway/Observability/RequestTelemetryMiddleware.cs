using System.Diagnostics;
using AiGateway.Auth;
using AiGateway.Pipeline;
using AiGateway.Protocol;
using Microsoft.AspNetCore.Http.Features;

namespace AiGateway.Observability;

/// <summary>
/// Measures every request (except scrapes and health probes) from the point routing has matched it:
/// the in-flight gauge, the request counter, the GenAI metrics, overhead and cost once the answer is
/// complete, the GenAI attributes on the request's server span, and the one access-log line.
/// </summary>
internal sealed class RequestTelemetryMiddleware(
    RequestDelegate next,
    GatewayMetrics metrics,
    TimeProvider time,
    ILoggerFactory loggerFactory,
    ObservabilityOptions options,
    Hosting.ErrorHandler errors,
    IServiceProvider services)
{
    /// <summary>Logger category of the per-request line, so its level can be set on its own.</summary>
    public const string LogCategory = "AiGateway.Requests";

    private const string Unmatched = "unmatched";

    private readonly ILogger _log = loggerFactory.CreateLogger(LogCategory);
    private readonly PathString _metricsPath = options.Metrics.Path;
    private readonly Usage.UsageLedger? _ledger = services.GetService<Usage.UsageLedger>();

    public async Task InvokeAsync(HttpContext context)
    {
        if (IsOperational(context.Request.Path, _metricsPath))
        {
            try
            {
                await next(context);
            }
            catch (Exception e)
            {
                await errors.HandleAsync(context, e);
            }
            return;
        }

        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? Unmatched;
        var telemetry = new RequestTelemetry(time, metrics, time.GetTimestamp());
        context.SetTelemetry(telemetry);
        var inFlight = metrics.RequestStarted(route);
        string? exceptionType = null;
        try
        {
            await next(context);
        }
        catch (Exception e)
        {
            exceptionType = e.GetType().FullName;
            await errors.HandleAsync(context, e);
        }
        finally
        {
            GatewayMetrics.RequestEnded(inFlight);
            if (telemetry.FirstEventTimestamp != 0) metrics.StreamEnded();
            try
            {
                Complete(context, telemetry, route, exceptionType);
            }
            catch (Exception e)
            {
                // The answer is written; a failure to record it must not turn into one, only into a log line.
                errors.LogRecordingFailed(context, e);
            }
        }
    }

    /// <summary>Scrapes and probes: frequent, uninteresting, and not worth a log line or a span.</summary>
    public static bool IsOperational(PathString path, PathString metricsPath) =>
        path.Equals(metricsPath, StringComparison.OrdinalIgnoreCase)
        || path.Equals("/healthz", StringComparison.OrdinalIgnoreCase)
        || path.Equals("/readyz", StringComparison.OrdinalIgnoreCase);

    private void Complete(HttpContext context, RequestTelemetry telemetry, string route, string? exceptionType)
    {
        var end = time.GetTimestamp();
        var duration = time.GetElapsedTime(telemetry.StartTimestamp, end);
        var response = context.Response;
        // The error handler has written the error by now; an exception that left nothing written counts as a 500.
        var status = exceptionType is not null && !response.HasStarted ? 500 : response.StatusCode;
        var cache = CacheResults.FromHeader(response.Headers[CacheResults.Header]);
        var request = context.GetAiRequest();
        var errorType = exceptionType
            ?? (status >= 400 ? GenAiAttributes.Status(status)
            : context.RequestAborted.IsCancellationRequested ? "client_aborted" : null);

        metrics.RequestCompleted(route, status, cache, request);
        if (request?.Deployment is not null && request.Operation != AiOperation.CountTokens)
        {
            metrics.GenAiCompleted(request, telemetry, duration, end, errorType);
        }

        // Only for a span someone records: without a listener ASP.NET Core's activity exists for log scopes alone.
        // Activity.Current first: when nothing traces there is none, and the feature lookup (not one Kestrel knows) is skipped.
        if (Activity.Current is not null
            && context.Features.Get<IHttpActivityFeature>()?.Activity is { IsAllDataRequested: true } activity && activity.Source.HasListeners())
        {
            Enrich(activity, context, request, errorType);
        }

        // Counting tokens is not a model call (as for the GenAI metrics above): no row.
        if (_ledger is not null && request is not null && request.Operation != AiOperation.CountTokens && context.GetCaller() is { } caller)
        {
            _ledger.Record(UsageRecordOf(context, request, caller, status, errorType, cache, duration, telemetry.Attempts));
        }

        if (_log.IsEnabled(LogLevel.Information))
        {
            var usage = request?.Usage;
            RequestLog.Completed(_log, new RequestLogEntry
            {
                Method = context.Request.Method,
                Route = route,
                Status = status,
                DurationMs = Math.Round(duration.TotalMilliseconds, 3),
                RequestId = context.TraceIdentifier,
                KeyName = context.GetCaller()?.Name,
                Model = request?.Model.Name,
                Deployment = request?.Deployment?.Name,
                InputTokens = usage?.PromptTokens,
                OutputTokens = usage?.CompletionTokens,
                Cache = cache,
                Attempts = telemetry.Attempts,
                TimeToFirstTokenMs = telemetry.FirstEventTimestamp != 0 ? Math.Round(time.GetElapsedTime(telemetry.StartTimestamp, telemetry.FirstEventTimestamp).TotalMilliseconds, 3) : null,
                ErrorType = errorType,
            });
        }
    }

    private Usage.UsageRecord UsageRecordOf(HttpContext context, AiRequest request, GatewayCaller caller, int status, string? errorType, string cache, TimeSpan duration, int attempts)
    {
        var usage = request.Usage ?? default;
        return new Usage.UsageRecord
        {
            TimestampUtc = time.GetUtcNow().UtcDateTime,
            RequestId = Usage.UsageRecord.Fit(context.TraceIdentifier, Usage.UsageRecord.RequestIdLength),
            Caller = Usage.UsageRecord.Fit(caller.Name, Usage.UsageRecord.NameLength),
            Team = Usage.UsageRecord.FitOrNull(caller.Team, Usage.UsageRecord.NameLength),
            Model = Usage.UsageRecord.Fit(request.Model.Name, Usage.UsageRecord.NameLength),
            Deployment = Usage.UsageRecord.FitOrNull(request.Deployment?.Name, Usage.UsageRecord.DeploymentLength),
            Operation = Usage.UsageRecord.Fit(request.Operation.Name(), Usage.UsageRecord.OperationLength),
            Stream = request.Scanned.Stream,
            Status = status,
            ErrorType = Usage.UsageRecord.FitOrNull(errorType, Usage.UsageRecord.ErrorTypeLength),
            PromptTokens = usage.PromptTokens,
            CompletionTokens = usage.CompletionTokens,
            CachedTokens = usage.CachedTokens,
            UsageSource = request.Usage is null ? "none" : usage.Source switch
            {
                UsageSource.Reported => "reported",
                UsageSource.Counted => "counted",
                _ => "cache",
            },
            CostUsd = request.Usage is null || usage.Source == UsageSource.Cache ? 0 : request.Model.Pricing?.Cost(usage) ?? 0,
            Cache = cache,
            DurationMs = Math.Round(duration.TotalMilliseconds, 3),
            Attempts = attempts,
        };
    }

    private static void Enrich(Activity activity, HttpContext context, AiRequest? request, string? errorType)
    {
        activity.SetTag(GenAiAttributes.RequestId, context.TraceIdentifier);
        if (context.GetCaller() is { } caller)
        {
            activity.SetTag(GenAiAttributes.KeyName, caller.Name);
            if (caller.Team is not null) activity.SetTag(GenAiAttributes.Team, caller.Team);
        }
        if (request is null) return;
        activity.SetTag(GenAiAttributes.OperationName, request.Operation.Name());
        activity.SetTag(GenAiAttributes.RequestModel, request.Model.Name);
        activity.SetTag(GenAiAttributes.Stream, request.Scanned.Stream);
        if (request.Deployment is { } deployment)
        {
            activity.SetTag(GenAiAttributes.ProviderName, GenAiAttributes.Provider(deployment.Cluster.Adapter.Name));
            activity.SetTag(GenAiAttributes.Deployment, deployment.Name);
            if (errorType is null) activity.SetTag(GenAiAttributes.ResponseModel, deployment.UpstreamModel);
        }
        if (request.Usage is { } usage)
        {
            activity.SetTag(GenAiAttributes.UsageInputTokens, usage.PromptTokens);
            if (request.Operation != AiOperation.Embeddings) activity.SetTag(GenAiAttributes.UsageOutputTokens, usage.CompletionTokens);
        }
        if (errorType is not null) activity.SetTag(GenAiAttributes.ErrorType, errorType);
    }
}
