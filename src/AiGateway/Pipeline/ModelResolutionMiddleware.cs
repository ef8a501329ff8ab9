using AiGateway.Auth;
using AiGateway.Configuration;
using AiGateway.Protocol;
using AiGateway.Providers.Anthropic;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace AiGateway.Pipeline;

/// <summary>
/// The first proxy-pipeline step: reads and scans the body once, resolves the model in the catalog,
/// checks the caller may use it, picks a deployment, and points YARP at its cluster with the body the
/// provider expects. Afterwards, turns YARP's forwarding failures
/// into OpenAI errors.
/// </summary>
internal sealed partial class ModelResolutionMiddleware(
    RequestDelegate next,
    GatewayConfigStore configStore,
    IProxyStateLookup proxyState,
    MessagesTokenCounter tokenCounter,
    ILogger<ModelResolutionMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var aiRequest = await ResolveAsync(context);
        if (aiRequest is null)
        {
            return;
        }

        var deployment = aiRequest.Deployment!;
        if (aiRequest.Operation == AiOperation.CountTokens && deployment.Cluster.Adapter is not AnthropicAdapter)
        {
            // Only Anthropic counts tokens upstream; other deployments are counted here with their tokenizer.
            await tokenCounter.RespondAsync(context, aiRequest);
            return;
        }

        if (!deployment.Cluster.Adapter.IsProxied)
        {
            // Answered in-process further down the pipeline, after admission.
            await next(context);
            return;
        }

        if (!proxyState.TryGetCluster(deployment.Cluster.Id, out var cluster))
        {
            // Only possible for a moment while a reload is being applied.
            await OpenAiError.WriteAsync(context, 503, $"The deployment '{deployment.Name}' is not available yet; retry shortly.", OpenAiError.Server, null, "deployment_unavailable");
            return;
        }

        if (!deployment.Cluster.Adapter.TryPrepareBody(aiRequest, out var upstreamBody, out var prepareError))
        {
            await prepareError!.WriteAsync(context);
            return;
        }
        aiRequest.UpstreamBody = upstreamBody;
        var request = context.Request;
        request.Body = new MemoryStreamSlice(aiRequest.UpstreamBody);
        request.ContentLength = aiRequest.UpstreamBody.Length;
        request.Headers.Remove("Transfer-Encoding");
        context.ReassignProxyRequest(cluster);

        await next(context);

        if (context.GetForwarderErrorFeature() is { } error)
        {
            await WriteForwarderErrorAsync(context, error, deployment);
        }
    }

    private async ValueTask<AiRequest?> ResolveAsync(HttpContext context)
    {
        var config = configStore.Current;
        var caller = context.Features.Get<GatewayCaller>();
        if (caller is null)
        {
            await OpenAiError.WriteAsync(context, 401, "You didn't provide an API key.", OpenAiError.InvalidRequest, null, "invalid_api_key");
            return null;
        }

        var operation = OperationOf(context);
        if (!IsJson(context.Request.ContentType))
        {
            await OpenAiError.WriteAsync(context, 400, "The request must have 'Content-Type: application/json'.", OpenAiError.InvalidRequest, null, "invalid_content_type");
            return null;
        }

        var body = await RequestBody.ReadAsync(context, config.MaxRequestBodyBytes);
        if (body is null)
        {
            await OpenAiError.WriteAsync(context, 413, $"The request body is larger than the gateway's limit of {config.MaxRequestBodyBytes} bytes.", OpenAiError.InvalidRequest, null, "request_too_large");
            return null;
        }

        if (!RequestScanner.TryScan(body.Value.Span, out var scanned, out var scanError))
        {
            await OpenAiError.WriteAsync(context, 400, scanError.Message, OpenAiError.InvalidRequest, scanError.Param, scanError.Param is null ? "invalid_json" : "invalid_value");
            return null;
        }

        if (!config.Models.TryGetValue(scanned.Model, out var model))
        {
            await OpenAiError.WriteAsync(context, 404, $"The model '{OpenAiError.Echo(scanned.Model)}' does not exist or you do not have access to it.", OpenAiError.InvalidRequest, "model", "model_not_found");
            return null;
        }
        if (!caller.Models.Allows(model.Name))
        {
            await OpenAiError.WriteAsync(context, 403, $"Your key is not allowed to use the model '{model.Name}'.", OpenAiError.Permission, "model", "model_not_allowed");
            return null;
        }

        var deployment = DeploymentSelector.Pick(model.Deployments, static d => d.Cluster.CredentialProblem is null, Random.Shared.NextDouble());
        if (deployment is null)
        {
            LogNoUsableDeployment(model.Name);
            await OpenAiError.WriteAsync(context, 503, $"The model '{model.Name}' has no deployment that can take requests: its provider credential is not configured on the gateway.", OpenAiError.Server, null, "deployment_unavailable");
            return null;
        }

        var aiRequest = new AiRequest
        {
            Operation = operation,
            Config = config,
            Caller = caller,
            Body = body.Value,
            Scanned = scanned,
            Model = model,
            Deployment = deployment,
            RequestId = context.TraceIdentifier,
            Telemetry = context.Features.Get<Observability.RequestTelemetry>(),
        };
        context.Features.Set(aiRequest);
        return aiRequest;
    }

    private Task WriteForwarderErrorAsync(HttpContext context, IForwarderErrorFeature error, Deployment deployment)
    {
        if (context.RequestAborted.IsCancellationRequested || error.Error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled)
        {
            return Task.CompletedTask;
        }

        LogForwarderError(deployment.Name, error.Error, error.Exception?.GetType().Name ?? "none");
        return error.Error switch
        {
            ForwarderError.RequestTimedOut => OpenAiError.WriteAsync(context, 504, $"The upstream deployment '{deployment.Name}' did not answer in time.", OpenAiError.Timeout, null, "upstream_timeout"),
            ForwarderError.NoAvailableDestinations => OpenAiError.WriteAsync(context, 503, $"The upstream deployment '{deployment.Name}' has no healthy destination.", OpenAiError.Server, null, "upstream_unavailable"),
            _ => OpenAiError.WriteAsync(context, 502, $"The upstream deployment '{deployment.Name}' could not be reached.", OpenAiError.Server, null, "upstream_unreachable"),
        };
    }

    private static AiOperation OperationOf(HttpContext context)
    {
        var metadata = context.GetReverseProxyFeature().Route.Config.Metadata;
        return metadata is not null && metadata.TryGetValue(GatewayProxyConfigProvider.OperationMetadata, out var value) && Enum.TryParse<AiOperation>(value, out var operation)
            ? operation
            : AiOperation.ChatCompletions;
    }

    internal static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType)) return false;
        var span = contentType.AsSpan();
        var semicolon = span.IndexOf(';');
        var mediaType = (semicolon >= 0 ? span[..semicolon] : span).Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);
    }

    [LoggerMessage(10, LogLevel.Warning, "Model '{Model}' has no usable deployment.")]
    private partial void LogNoUsableDeployment(string model);

    [LoggerMessage(11, LogLevel.Warning, "Forwarding to deployment '{Deployment}' failed: {Error} ({ExceptionType}).")]
    private partial void LogForwarderError(string deployment, ForwarderError error, string exceptionType);
}
