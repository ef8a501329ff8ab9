using AiGateway.Pipeline;
using AiGateway.Protocol;
using Yarp.ReverseProxy.Transforms;

namespace AiGateway.Providers.AzureOpenAI;

/// <summary>
/// Azure OpenAI: the deployment name is in the path (<c>/openai/deployments/{name}/…</c>), the API
/// version in the query, and the key in the <c>api-key</c> header.
/// </summary>
internal sealed class AzureOpenAiAdapter : ProviderAdapter
{
    public const string DefaultApiVersion = "2024-10-21";

    public static readonly AzureOpenAiAdapter Instance = new();

    public override string Name => "azure";

    public override void AddCredential(System.Net.Http.Headers.HttpRequestHeaders headers, Configuration.UpstreamCluster cluster)
    {
        if (cluster.Credential is { } credential) headers.TryAddWithoutValidation("api-key", credential);
    }

    public override void TransformRequest(RequestTransformContext context, AiRequest request)
    {
        var deployment = request.Deployment!;
        context.Path = string.Concat("/openai/deployments/", Uri.EscapeDataString(deployment.UpstreamModel), request.Operation.UpstreamPath());
        var query = context.Query.Collection;
        query.Clear();
        query["api-version"] = deployment.Cluster.ApiVersion ?? DefaultApiVersion;
        if (deployment.Cluster.Credential is { } credential)
        {
            context.ProxyRequest.Headers.TryAddWithoutValidation("api-key", credential);
        }
    }
}
