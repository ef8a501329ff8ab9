using AiGateway.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace AiGateway.Resilience;

/// <summary>
/// Active health probes of provider APIs: a GET of the probe path under the destination's base URL,
/// carrying the provider credential (an unauthenticated probe of OpenAI's <c>/v1/models</c> would
/// always look unhealthy).
/// </summary>
internal sealed class ProviderProbeRequestFactory(GatewayConfigStore store) : IProbingRequestFactory
{
    public HttpRequestMessage CreateRequest(ClusterModel cluster, DestinationModel destination)
    {
        var active = cluster.Config.HealthCheck?.Active;
        var baseAddress = (destination.Config.Health ?? destination.Config.Address).TrimEnd('/');
        var request = new HttpRequestMessage(HttpMethod.Get, baseAddress + (active?.Path ?? "") + (active?.Query ?? ""))
        {
            Version = cluster.Config.HttpRequest?.Version ?? System.Net.HttpVersion.Version11,
            VersionPolicy = cluster.Config.HttpRequest?.VersionPolicy ?? HttpVersionPolicy.RequestVersionOrLower,
        };
        if (store.Current.Clusters.TryGetValue(cluster.Config.ClusterId, out var upstream))
        {
            upstream.Adapter.AddCredential(request.Headers, upstream);
        }
        return request;
    }
}
