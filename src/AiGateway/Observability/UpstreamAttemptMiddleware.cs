using System.Diagnostics;
using AiGateway.Pipeline;
using AiGateway.Protocol;
using Yarp.ReverseProxy.Forwarder;

namespace AiGateway.Observability;

/// <summary>
/// Wraps one upstream attempt: a client span (<c>{operation} {model}</c>, GenAI attributes) that YARP's
/// HttpClient span and the <c>traceparent</c> sent upstream descend from, the attempt counter, the
/// upstream time to first byte, and the upstream time that <c>aigateway.request.overhead</c> excludes.
/// Used twice: as the last proxy step for forwarded deployments (the failover step before it re-runs the
/// pipeline, so each attempt gets its own span), and by the failover step around in-process (mock) answers.
/// </summary>
internal sealed class UpstreamAttemptMiddleware(RequestDelegate next, GatewayMetrics metrics, ResilienceMetrics resilience, TimeProvider time, bool inProcess)
{
    public const string ActivitySourceName = "AiGateway";

    internal static readonly ActivitySource ActivitySource = new(ActivitySourceName);

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.GetAiRequest();
        var deployment = request?.Deployment;
        if (request?.Telemetry is not { } telemetry || deployment is null || deployment.Cluster.Adapter.IsProxied == inProcess)
        {
            await next(context);
            return;
        }

        var kind = telemetry.BeginAttempt(deployment);
        using var activity = StartActivity(request, kind, telemetry.Attempts);
        var start = time.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var end = time.GetTimestamp();
            telemetry.EndAttempt(start, end);
            var errorType = ErrorType(context);
            var status = context.Response.StatusCode;
            resilience.Attempt(deployment, kind, status, errorType);
            if (telemetry.ResponseHeadersTimestamp > start)
            {
                metrics.UpstreamFirstByte(deployment, time.GetElapsedTime(start, telemetry.ResponseHeadersTimestamp));
            }
            if (activity is not null) Complete(activity, request, errorType, status);
        }
    }

    private static Activity? StartActivity(AiRequest request, AttemptKind kind, int attempt)
    {
        if (!ActivitySource.HasListeners()) return null;
        var deployment = request.Deployment!;
        var operation = request.Operation.Name();
        var activity = ActivitySource.StartActivity(operation + " " + deployment.UpstreamModel, ActivityKind.Client);
        if (activity is null || !activity.IsAllDataRequested) return activity;
        activity.SetTag(GenAiAttributes.OperationName, operation);
        activity.SetTag(GenAiAttributes.ProviderName, GenAiAttributes.Provider(deployment.Cluster.Adapter.Name));
        activity.SetTag(GenAiAttributes.RequestModel, deployment.UpstreamModel);
        activity.SetTag(GenAiAttributes.Deployment, deployment.Name);
        activity.SetTag(GenAiAttributes.AttemptNumber, attempt);
        activity.SetTag(GenAiAttributes.AttemptKind, ResilienceMetrics.KindLabel(kind));
        activity.SetTag(GenAiAttributes.RequestId, request.RequestId);
        if (request.Scanned.MaxTokens is { } maxTokens) activity.SetTag(GenAiAttributes.RequestMaxTokens, maxTokens);
        return activity;
    }

    private static void Complete(Activity activity, AiRequest request, string? errorType, int status)
    {
        if (!activity.IsAllDataRequested) return;
        if (errorType is null) activity.SetTag(GenAiAttributes.HttpStatusCode, status);
        if (request.Usage is { } usage)
        {
            activity.SetTag(GenAiAttributes.ResponseModel, request.Deployment!.UpstreamModel);
            activity.SetTag(GenAiAttributes.UsageInputTokens, usage.PromptTokens);
            if (request.Operation != AiOperation.Embeddings) activity.SetTag(GenAiAttributes.UsageOutputTokens, usage.CompletionTokens);
        }
        var error = errorType ?? (status >= 400 ? GenAiAttributes.Status(status) : null);
        if (error is not null)
        {
            activity.SetTag(GenAiAttributes.ErrorType, error);
            activity.SetStatus(ActivityStatusCode.Error);
        }
    }

    /// <summary>The forwarder's failure when no upstream response came back (timeout, refused connection…), else null.</summary>
    private static string? ErrorType(HttpContext context) =>
        context.Features.Get<IForwarderErrorFeature>() is { Error: not ForwarderError.None } error ? ForwarderErrorName(error.Error) : null;

    private static string ForwarderErrorName(ForwarderError error) => error switch
    {
        ForwarderError.RequestTimedOut => "timeout",
        ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled => "canceled",
        ForwarderError.NoAvailableDestinations => "no_destination",
        ForwarderError.Request or ForwarderError.RequestCreation => "connection_error",
        ForwarderError.ResponseBodyDestination or ForwarderError.RequestBodyClient => "client_error",
        _ => "upstream_error",
    };
}
