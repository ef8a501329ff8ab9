using System.Collections.Frozen;
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
/// checks the caller may use it, and picks the first deployment to try (a fallback model's when none of
/// the model's own can take traffic).
/// </summary>
internal sealed partial class ModelResolutionMiddleware(
    RequestDelegate next,
    GatewayConfigStore configStore,
    Resilience.DeploymentBalancer balancer,
    MessagesTokenCounter tokenCounter,
    GatewayKeyAuthenticator authenticator,
    ILogger<ModelResolutionMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        // Resolution usually completes without waiting (the body has arrived with the headers): then the rest of
        // the pipeline is called without this step keeping an async frame of its own around it.
        var resolving = ResolveAsync(context);
        return resolving.IsCompletedSuccessfully ? Continue(context, resolving.Result) : ContinueAsync(context, resolving);
    }

    private async Task ContinueAsync(HttpContext context, ValueTask<AiRequest?> resolving) => await Continue(context, await resolving);

    private Task Continue(HttpContext context, AiRequest? aiRequest)
    {
        if (aiRequest is null)
        {
            return Task.CompletedTask;
        }

        if (aiRequest.Operation == AiOperation.CountTokens && aiRequest.Deployment!.Cluster.Adapter is not AnthropicAdapter)
        {
            // Only Anthropic counts tokens upstream; other deployments are counted here with their tokenizer.
            return tokenCounter.RespondAsync(context, aiRequest);
        }

        return next(context);
    }

    private async ValueTask<AiRequest?> ResolveAsync(HttpContext context)
    {
        var config = configStore.Current;
        var caller = await authenticator.AuthenticateOrChallengeAsync(context);
        if (caller is null)
        {
            return null;
        }

        var operation = OperationOf(context);
        if (!IsJson(context.Request.ContentType))
        {
            await OpenAiError.WriteAsync(context, 400, "The request must have 'Content-Type: application/json'.", OpenAiError.InvalidRequest, null, "invalid_content_type");
            return null;
        }

        if (context.Request.Headers.ContentEncoding is { Count: > 0 } encoding && !encoding.ToString().Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            // The body is scanned and forwarded as plain JSON; a compressed one would read as garbage, and the
            // header copied upstream would make the provider decompress plain bytes.
            await OpenAiError.WriteAsync(context, 415, "Compressed request bodies are not supported; send the JSON body without 'Content-Encoding'.", OpenAiError.InvalidRequest, null, "unsupported_content_encoding");
            return null;
        }

        var body = await RequestBody.ReadAsync(context, config.MaxRequestBodyBytes);
        if (body is null)
        {
            await OpenAiError.WriteAsync(context, 413, $"The request body is larger than the gateway's limit of {config.MaxRequestBodyBytes} bytes.", OpenAiError.InvalidRequest, null, "request_too_large");
            return null;
        }

        var maxDepth = ApiSurfaces.Of(context) == ApiSurface.Anthropic ? RequestScanner.MessagesMaxDepth : RequestScanner.MaxDepth;
        if (!RequestScanner.TryScan(body.Value.Span, out var scanned, out var scanError, maxDepth))
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

        var (served, deployment) = balancer.PickWithFallbacks(model, null);
        var aiRequest = new AiRequest
        {
            Operation = operation,
            Config = config,
            Caller = caller,
            Body = body.Value,
            Scanned = scanned,
            Model = served,
            Deployment = deployment,
            IsFallback = served != model,
            RequestId = context.TraceIdentifier,
            ClientAborted = context.RequestAborted,
            Telemetry = context.GetTelemetry(),
        };
        // Set before the refusal below too, so the request is measured and recorded with its model.
        context.SetAiRequest(aiRequest);
        if (deployment is null)
        {
            LogNoUsableDeployment(model.Name);
            await OpenAiError.WriteAsync(context, 503, $"The model '{model.Name}' has no deployment that can take requests now: each one's provider credential is missing or its circuit breaker is open.", OpenAiError.Server, null, "deployment_unavailable");
            return null;
        }
        return aiRequest;
    }

    private static AiOperation OperationOf(HttpContext context)
    {
        var metadata = context.GetReverseProxyFeature().Route.Config.Metadata;
        return metadata is not null && metadata.TryGetValue(GatewayProxyConfigProvider.OperationMetadata, out var value) && Operations.TryGetValue(value, out var operation)
            ? operation
            : AiOperation.ChatCompletions;
    }

    /// <summary>Operation names as the proxy routes carry them, looked up instead of parsed per request.</summary>
    private static readonly FrozenDictionary<string, AiOperation> Operations =
        Enum.GetValues<AiOperation>().ToFrozenDictionary(operation => operation.ToString(), StringComparer.Ordinal);

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

}
