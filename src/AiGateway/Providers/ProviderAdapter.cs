using AiGateway.Configuration;
using AiGateway.Pipeline;
using AiGateway.Protocol;
using AiGateway.Providers.Anthropic;
using AiGateway.Transforms;
using Yarp.ReverseProxy.Transforms;

namespace AiGateway.Providers;

/// <summary>
/// Knows one upstream API shape: how a routed OpenAI request is addressed, authenticated and encoded
/// for it. One stateless instance per provider kind.
/// </summary>
internal abstract class ProviderAdapter
{
    /// <summary>
    /// Drops the client's query string: upstream URLs are the adapter's own. Touching
    /// <see cref="RequestTransformContext.Query"/> parses the query, so a request without one skips it.
    /// </summary>
    protected static void DropClientQuery(RequestTransformContext context)
    {
        if (context.HttpContext.Request.QueryString.HasValue) context.Query.Collection.Clear();
    }

    /// <summary>The provider name used in config and in <c>gen_ai.provider.name</c>.</summary>
    public abstract string Name { get; }

    /// <summary><c>false</c> for providers the gateway answers itself, which have no YARP cluster.</summary>
    public virtual bool IsProxied => true;

    /// <summary>Whether the provider accepts requests without a credential (self-hosted servers).</summary>
    public virtual bool CredentialOptional => false;

    /// <summary>
    /// The body to send upstream: by default the client's body with <c>model</c> swapped for the
    /// deployment's name and, for streams, <c>stream_options.include_usage</c> turned on so usage is
    /// never lost (the extra chunk is removed again when the client did not ask for it). A request on
    /// the Anthropic surface is translated into a chat completion.
    /// </summary>
    /// <returns><c>false</c> with <paramref name="error"/> set when the request cannot be expressed for this provider (a 4xx for the client).</returns>
    public virtual bool TryPrepareBody(AiRequest request, out ReadOnlyMemory<byte> body, out ClientError? error)
    {
        if (request.Operation == AiOperation.Messages)
        {
            return MessagesSurface.TryPrepareChatBody(request, out body, out error);
        }
        error = null;
        body = PrepareBody(request);
        return true;
    }

    /// <summary>The OpenAI-compatible body: see <see cref="TryPrepareBody"/>.</summary>
    public ReadOnlyMemory<byte> PrepareBody(AiRequest request)
    {
        var body = ReplaceModel(request);
        var scanned = request.Scanned;
        if (!scanned.Stream || scanned.IncludeUsage || request.Operation == Protocol.AiOperation.Embeddings)
        {
            return body;
        }
        return scanned.HasStreamOptions ? SetIncludeUsage(body) : InsertIncludeUsage(body.Span);
    }

    private static ReadOnlySpan<byte> IncludeUsageMember => "\"stream_options\":{\"include_usage\":true},"u8;

    // Common case: no stream_options at all, so the member goes right after the opening brace.
    private static byte[] InsertIncludeUsage(ReadOnlySpan<byte> body)
    {
        var brace = body.IndexOf((byte)'{');
        var rest = body[(brace + 1)..];
        var closesAtOnce = rest.Trim(" \t\r\n"u8).SequenceEqual("}"u8);
        var member = closesAtOnce ? IncludeUsageMember[..^1] : IncludeUsageMember;
        var result = new byte[body.Length + member.Length];
        body[..(brace + 1)].CopyTo(result);
        member.CopyTo(result.AsSpan(brace + 1));
        rest.CopyTo(result.AsSpan(brace + 1 + member.Length));
        return result;
    }

    // Rare case: the client sent stream_options without include_usage; edit it in a DOM.
    private static byte[] SetIncludeUsage(ReadOnlyMemory<byte> body)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(body.Span)!.AsObject();
        if (root["stream_options"] is not System.Text.Json.Nodes.JsonObject options)
        {
            options = [];
            root["stream_options"] = options;
        }
        options["include_usage"] = true;
        return System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(root, Protocol.ProtocolJsonContext.Default.JsonObject);
    }

    /// <summary>Sets the upstream path, query and credential on the outgoing request.</summary>
    public abstract void TransformRequest(RequestTransformContext context, AiRequest request);

    /// <summary>Adds the provider credential to a request the gateway makes itself (health probes). Default: bearer token.</summary>
    public virtual void AddCredential(System.Net.Http.Headers.HttpRequestHeaders headers, UpstreamCluster cluster)
    {
        if (cluster.Credential is { } credential) headers.TryAddWithoutValidation("Authorization", "Bearer " + credential);
    }

    /// <summary>
    /// Relays a successful upstream body to the client, recording usage on <paramref name="request"/>.
    /// The default relays OpenAI JSON or SSE (translated for the Anthropic surface); providers with
    /// another wire format translate here.
    /// </summary>
    public virtual Task RelayResponseAsync(HttpResponseMessage upstream, Stream body, HttpResponse response, AiRequest request, CancellationToken ct) =>
        request.Operation == AiOperation.Messages ? MessagesSurface.RelayAsync(upstream, body, response, request, ct)
        : ResponseRelay.IsEventStream(upstream.Content)
            ? ResponseRelay.RelaySseAsync(body, response, request, ct)
            : ResponseRelay.RelayJsonAsync(body, response, request, ct);

    /// <summary>Maps an upstream error (status and at most 64 KB of body, or null) to what the client gets.</summary>
    public virtual (int Status, byte[] Body) MapError(int status, byte[]? body, AiRequest request)
    {
        var deployment = request.Deployment!;
        var mapped = UpstreamErrors.Normalize(status, body, deployment.Name, deployment.Cluster.Credential);
        return request.Operation == AiOperation.Messages ? MessagesSurface.MapError(mapped.Status, mapped.Body) : mapped;
    }

    protected static ReadOnlyMemory<byte> ReplaceModel(AiRequest request)
    {
        var body = request.Body.Span;
        var scanned = request.Scanned;
        var replacement = request.Deployment!.UpstreamModelJson;
        if (body.Slice(scanned.ModelStart, scanned.ModelLength).SequenceEqual(replacement))
        {
            return request.Body;
        }

        var result = new byte[body.Length - scanned.ModelLength + replacement.Length];
        body[..scanned.ModelStart].CopyTo(result);
        replacement.CopyTo(result.AsSpan(scanned.ModelStart));
        body[(scanned.ModelStart + scanned.ModelLength)..].CopyTo(result.AsSpan(scanned.ModelStart + replacement.Length));
        return result;
    }
}
