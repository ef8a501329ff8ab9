using AiGateway.Pipeline;
using AiGateway.Protocol;
using Yarp.ReverseProxy.Transforms;

namespace AiGateway.Providers.OpenAI;

/// <summary>
/// Any OpenAI-compatible server (OpenAI, vLLM, Ollama, LM Studio…). Destinations are API base URLs that
/// already end in <c>/v1</c>, like an SDK's base URL, so the operation path is appended below it.
/// </summary>
internal sealed class OpenAiAdapter : ProviderAdapter
{
    public static readonly OpenAiAdapter Instance = new();

    public override string Name => "openai";

    public override bool CredentialOptional => true;

    public override void TransformRequest(RequestTransformContext context, AiRequest request)
    {
        context.Path = request.Operation.UpstreamPath();
        DropClientQuery(context);
        var credential = request.Deployment!.Cluster.Credential;
        if (credential is not null)
        {
            context.ProxyRequest.Headers.TryAddWithoutValidation("Authorization", "Bearer " + credential);
        }
    }
}
