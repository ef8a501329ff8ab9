using AiGateway.Pipeline;
using Yarp.ReverseProxy.Transforms;

namespace AiGateway.Providers.Mock;

/// <summary>The built-in echo provider: answered in-process by <see cref="MockResponder"/>, never proxied.</summary>
internal sealed class MockAdapter : ProviderAdapter
{
    public static readonly MockAdapter Instance = new();

    public override string Name => "mock";

    public override bool IsProxied => false;

    public override bool CredentialOptional => true;

    public override void TransformRequest(RequestTransformContext context, AiRequest request) =>
        throw new InvalidOperationException("The mock provider is not proxied.");
}
