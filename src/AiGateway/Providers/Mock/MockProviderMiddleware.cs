using AiGateway.Pipeline;

namespace AiGateway.Providers.Mock;

/// <summary>The proxy-pipeline step that answers requests routed to a mock deployment; everything else goes on to YARP.</summary>
internal sealed class MockProviderMiddleware(RequestDelegate next, MockResponder responder)
{
    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Features.Get<AiRequest>()!;
        return request.Deployment!.Cluster.Adapter.IsProxied ? next(context) : responder.RespondAsync(context, request);
    }
}
