using System.Buffers;
using AiGateway.Configuration;
using AiGateway.Pipeline;
using AiGateway.Protocol;
using AiGateway.Transforms;
using Yarp.ReverseProxy.Transforms;

namespace AiGateway.Providers.Anthropic;

/// <summary>
/// Anthropic's Messages API. Destinations are API base URLs ending in <c>/v1</c>
/// (<c>https://api.anthropic.com/v1</c>), like the OpenAI adapter's, so the path appended is
/// <c>/messages</c>. OpenAI chat completions are translated both ways; requests on the gateway's own
/// Anthropic surface (<c>/v1/messages</c>, <c>/v1/messages/count_tokens</c>) pass through with the
/// model renamed and the credential swapped.
/// </summary>
internal sealed class AnthropicAdapter : ProviderAdapter
{
    public const string DefaultVersion = "2023-06-01";

    /// <summary>Output cap sent when neither the client nor the catalog's <c>maxOutputTokens</c> sets one; Anthropic requires a value.</summary>
    public const int DefaultMaxTokens = 4096;

    public static readonly AnthropicAdapter Instance = new();

    public override string Name => "anthropic";

    public override bool TryPrepareBody(AiRequest request, out ReadOnlyMemory<byte> body, out ClientError? error)
    {
        switch (request.Operation)
        {
            case AiOperation.Messages or AiOperation.CountTokens:
                error = null;
                body = ReplaceModel(request);
                return true;
            case AiOperation.ChatCompletions:
                var deployment = request.Deployment!;
                var buffer = new ArrayBufferWriter<byte>(request.Body.Length + 256);
                if (AnthropicRequestTranslator.TryTranslate(request.Body, deployment.UpstreamModel, request.Model.MaxOutputTokens ?? DefaultMaxTokens, buffer, out _, out var translationError))
                {
                    error = null;
                    body = buffer.WrittenMemory;
                    return true;
                }
                error = new ClientError(translationError.StatusCode, translationError.Message, translationError.Param, translationError.Code);
                body = default;
                return false;
            default:
                error = new ClientError(400, $"The model '{request.Model.Name}' is served by Anthropic, which only supports chat completions; '{request.Operation.Name()}' is not available for it.", "model", "unsupported_operation");
                body = default;
                return false;
        }
    }

    public override void AddCredential(System.Net.Http.Headers.HttpRequestHeaders headers, Configuration.UpstreamCluster cluster)
    {
        headers.TryAddWithoutValidation("anthropic-version", cluster.Options.AnthropicVersion ?? DefaultVersion);
        if (cluster.Credential is { } credential) headers.TryAddWithoutValidation("x-api-key", credential);
    }

    public override void TransformRequest(RequestTransformContext context, AiRequest request)
    {
        context.Path = request.Operation == AiOperation.CountTokens ? "/messages/count_tokens" : "/messages";
        DropClientQuery(context);
        var headers = context.ProxyRequest.Headers;
        var cluster = request.Deployment!.Cluster;
        var version = cluster.Options.AnthropicVersion ?? DefaultVersion;
        // On the Anthropic surface the client wrote the body for its own API version and betas, so those
        // are forwarded; a translated body is written for the cluster's version, with no betas.
        if (request.Operation is AiOperation.Messages or AiOperation.CountTokens)
        {
            var client = context.HttpContext.Request.Headers;
            if (client["anthropic-version"] is [{ Length: > 0 } clientVersion]) version = clientVersion;
            if (client["anthropic-beta"] is { Count: > 0 } betas) headers.TryAddWithoutValidation("anthropic-beta", (IEnumerable<string?>)betas);
        }
        headers.TryAddWithoutValidation("anthropic-version", version);
        if (cluster.Credential is { } credential)
        {
            headers.TryAddWithoutValidation("x-api-key", credential);
        }
    }

    public override Task RelayResponseAsync(HttpResponseMessage upstream, Stream body, HttpResponse response, AiRequest request, CancellationToken ct)
    {
        var stream = ResponseRelay.IsEventStream(upstream.Content);
        if (request.Operation is AiOperation.Messages or AiOperation.CountTokens)
        {
            return stream
                ? TranslatingRelay.RelayStreamAsync(body, response, request, new AnthropicStreamPassthrough(), ct)
                : TranslatingRelay.RelayJsonAsync(body, response, request, PassThroughJson, ct);
        }

        var publicModel = request.Model.Name;
        var created = Created(response);
        return stream
            ? TranslatingRelay.RelayStreamAsync(body, response, request, new AnthropicStreamTranslator(publicModel, created, request.Scanned.IncludeUsage), ct)
            : TranslatingRelay.RelayJsonAsync(body, response, request,
                (ReadOnlyMemory<byte> upstreamBody, IBufferWriter<byte> client, out TranslatedUsage usage, out TranslationError? error) =>
                    AnthropicResponseTranslator.TryTranslate(upstreamBody, publicModel, created, client, out usage, out error),
                ct);
    }

    /// <summary>
    /// Anthropic's errors in the client's dialect. As for every provider, Anthropic refusing the
    /// gateway's own key (401/403) is the gateway's fault, not the caller's: 502. A body that quotes
    /// the provider key is never relayed.
    /// </summary>
    public override (int Status, byte[] Body) MapError(int status, byte[]? body, AiRequest request)
    {
        var deployment = request.Deployment!;
        var anthropicSurface = request.Operation is AiOperation.Messages or AiOperation.CountTokens;
        if (status is 401 or 403)
        {
            var message = $"The upstream deployment '{deployment.Name}' rejected the gateway's provider credential.";
            return (502, anthropicSurface
                ? ErrorTranslator.SerializeAnthropic(502, message)
                : OpenAiError.Serialize(message, OpenAiError.Server, null, "upstream_authentication_failed"));
        }

        if (body is not null && deployment.Cluster.Credential is { } credential && body.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(credential)) >= 0)
        {
            body = null;
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        if (anthropicSurface)
        {
            // Anthropic's own error for an Anthropic client: rewritten from its type and message so nothing
            // else crosses, and its status (529 included) kept, because Anthropic SDKs retry on it.
            ErrorTranslator.AnthropicToAnthropic(status, body ?? ReadOnlyMemory<byte>.Empty, buffer);
            return (status, buffer.WrittenSpan.ToArray());
        }

        var mapped = ErrorTranslator.AnthropicToOpenAI(status, body ?? ReadOnlyMemory<byte>.Empty, buffer);
        return (mapped.StatusCode, buffer.WrittenSpan.ToArray());
    }

    private static bool PassThroughJson(ReadOnlyMemory<byte> upstream, IBufferWriter<byte> client, out TranslatedUsage usage, out TranslationError? error)
    {
        error = null;
        usage = default;
        client.Write(upstream.Span);
        if (TranslationJson.TryParse(upstream, out var document))
        {
            using (document)
            {
                if (document.RootElement.TryGetValue("usage", out var element))
                {
                    usage = TranslatedUsage.FromAnthropic(element);
                }
            }
        }
        return true;
    }

    internal static long Created(HttpResponse response) =>
        (response.HttpContext.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System).GetUtcNow().ToUnixTimeSeconds();
}
