using System.Diagnostics;
using AiGateway.Pipeline;
using AiGateway.Protocol;
using Yarp.ReverseProxy.Forwarder;

namespace AiGateway.Observability;

/// <summary>
/// Records one upstream attempt: a client span (<c>{operation} {model}</c>, GenAI attributes) that YARP's
/// HttpClient span and the <c>traceparent</c> sent upstream descend from, the attempt counter, the
/// upstream time to first byte, and the upstream time that <c>aigateway.request.overhead</c> excludes.
/// The failover step calls <see cref="Begin"/> and <see cref="End"/> around each attempt it runs (YARP's
/// pipeline for forwarded deployments, the mock responder for in-process ones) rather than this being a
/// proxy step of its own: one async frame fewer on every request, and each attempt still gets its own span.
/// </summary>
internal sealed class UpstreamAttempts(GatewayMetrics metrics, ResilienceMetrics resilience, TimeProvider time)
{
    public const string ActivitySourceName = "AiGateway";

    internal static readonly ActivitySource ActivitySource = new(ActivitySourceName);

    /// <summary>An attempt in progress; <see cref="End"/> completes it.</summary>
    public readonly record struct Scope(RequestTelemetry? Telemetry, AttemptKind Kind, Activity? Activity, long Start);

    public Scope Begin(AiRequest request)
    {
        if (request.Telemetry is not { } telemetry) return default;
        var kind = telemetry.BeginAttempt(request.Deployment!);
        var activity = StartActivity(request, kind, telemetry.Attempts);
        return new Scope(telemetry, kind, activity, time.GetTimestamp());
    }

    /// <param name="forwarderError">YARP's error feature after the attempt (null when it succeeded or nothing was forwarded).</param>
    public void End(HttpContext context, AiRequest request, in Scope scope, IForwarderErrorFeature? forwarderError)
    {
        if (scope.Telemetry is not { } telemetry) return;
        try
        {
            var deployment = request.Deployment!;
            var end = time.GetTimestamp();
            telemetry.EndAttempt(scope.Start, end);
            var errorType = ErrorType(forwarderError);
            var status = context.Response.StatusCode;
            resilience.Attempt(deployment, scope.Kind, status, errorType);
            if (telemetry.ResponseHeadersTimestamp > scope.Start)
            {
                metrics.UpstreamFirstByte(deployment, time.GetElapsedTime(scope.Start, telemetry.ResponseHeadersTimestamp));
            }
            if (scope.Activity is { IsAllDataRequested: true } activity) Complete(activity, request, errorType, status);
        }
        finally
        {
            // Stopped whatever happened above, so the span is exported and Activity.Current goes back to its parent.
            scope.Activity?.Dispose();
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
    private static string? ErrorType(IForwarderErrorFeature? forwarderError) =>
        forwarderError is { Error: not ForwarderError.None } error ? ForwarderErrorName(error.Error) : null;

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
