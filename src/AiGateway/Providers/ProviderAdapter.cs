using AiGateway.Pipeline;
using Yarp.ReverseProxy.Transforms;

namespace AiGateway.Providers;

/// <summary>
/// Knows one upstream API shape: how a routed OpenAI request is addressed, authenticated and encoded
/// for it. One stateless instance per provider kind.
/// </summary>
internal abstract class ProviderAdapter
{
    /// <summary>The provider name used in config and in <c>gen_ai.provider.name</c>.</summary>
    public abstract string Name { get; }

    /// <summary><c>false</c> for providers the gateway answers itself, which have no YARP cluster.</summary>
    public virtual bool IsProxied => true;

    /// <summary>Whether the provider accepts requests without a credential (self-hosted servers).</summary>
    public virtual bool CredentialOptional => false;

    /// <summary>The body to send upstream; by default the client's body with <c>model</c> swapped for the deployment's name.</summary>
    public virtual ReadOnlyMemory<byte> PrepareBody(AiRequest request) => ReplaceModel(request);

    /// <summary>Sets the upstream path, query and credential on the outgoing request.</summary>
    public abstract void TransformRequest(RequestTransformContext context, AiRequest request);

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
