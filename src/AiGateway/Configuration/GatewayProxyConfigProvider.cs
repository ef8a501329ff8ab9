using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace AiGateway.Configuration;

/// <summary>
/// Feeds YARP from the gateway config: one cluster per proxied upstream cluster, and one fixed route
/// per operation (OpenAI's, and Anthropic's Messages surface). Routes carry no cluster: model resolution picks it per request.
/// </summary>
internal sealed class GatewayProxyConfigProvider : IProxyConfigProvider
{
    public const string OperationMetadata = "aigw.operation";

    /// <summary>
    /// The cluster routes start on. YARP only runs the proxy pipeline for a route with a cluster; this one
    /// has no destinations, so a request that model resolution did not reassign can never go anywhere.
    /// </summary>
    public const string UnresolvedClusterId = "aigw-unresolved";

    private static readonly IReadOnlyList<RouteConfig> Routes =
    [
        Route("chat-completions", "/v1/chat/completions", "ChatCompletions"),
        Route("completions", "/v1/completions", "Completions"),
        Route("embeddings", "/v1/embeddings", "Embeddings"),
        Route("messages", "/v1/messages", "Messages"),
        Route("messages-count-tokens", "/v1/messages/count_tokens", "CountTokens"),
    ];

    private volatile Snapshot _snapshot;

    public GatewayProxyConfigProvider(GatewayConfigStore store)
    {
        _snapshot = new Snapshot(BuildClusters(store.Current));
        store.Changed += config =>
        {
            var previous = _snapshot;
            _snapshot = new Snapshot(BuildClusters(config));
            previous.SignalChange();
        };
    }

    public IProxyConfig GetConfig() => _snapshot;

    internal static IReadOnlyList<ClusterConfig> BuildClusters(GatewayConfig config) =>
        [new ClusterConfig { ClusterId = UnresolvedClusterId }, .. config.Clusters.Values
            .Where(c => c.Adapter.IsProxied)
            .Select(c => new ClusterConfig
            {
                ClusterId = c.Id,
                Destinations = c.Options.Destinations.ToDictionary(
                    d => d.Key,
                    d => new DestinationConfig { Address = d.Value.Address },
                    StringComparer.OrdinalIgnoreCase),
                HttpRequest = new ForwarderRequestConfig
                {
                    ActivityTimeout = c.Options.ActivityTimeout ?? Transforms.ProviderTransformProvider.DefaultActivityTimeout,
                    // Buffering would hold back streamed tokens; the response is relayed as it arrives.
                    AllowResponseBuffering = false,
                },
                HttpClient = new HttpClientConfig
                {
                    EnableMultipleHttp2Connections = true,
                },
                HealthCheck = new HealthCheckConfig
                {
                    Passive = new PassiveHealthCheckConfig
                    {
                        Enabled = true,
                        Policy = Resilience.GatewayPassiveHealthPolicy.PolicyName,
                        ReactivationPeriod = c.Options.ActiveHealthCheck?.Interval ?? TimeSpan.FromSeconds(30),
                    },
                    Active = c.Options.ActiveHealthCheck is { } active
                        ? new ActiveHealthCheckConfig
                        {
                            Enabled = true,
                            Interval = active.Interval,
                            Timeout = active.Timeout,
                            Policy = "ConsecutiveFailures",
                            Path = active.Path,
                        }
                        : null,
                },
                Metadata = c.Options.ConnectTimeout is { } connect
                    ? new Dictionary<string, string> { [Resilience.GatewayHttpClientFactory.ConnectTimeoutMetadata] = connect.ToString("c", System.Globalization.CultureInfo.InvariantCulture) }
                    : null,
            })];

    private static RouteConfig Route(string id, string path, string operation) => new()
    {
        RouteId = id,
        Match = new RouteMatch { Path = path, Methods = ["POST"] },
        ClusterId = UnresolvedClusterId,
        // The key is checked by the route's first proxy step (ModelResolutionMiddleware), not by a policy.
        AuthorizationPolicy = "anonymous",
        Metadata = new Dictionary<string, string> { [OperationMetadata] = operation },
    };

    private sealed class Snapshot(IReadOnlyList<ClusterConfig> clusters) : IProxyConfig
    {
        private readonly CancellationTokenSource _changed = new();

        public IReadOnlyList<RouteConfig> Routes => GatewayProxyConfigProvider.Routes;
        public IReadOnlyList<ClusterConfig> Clusters { get; } = clusters;
        public IChangeToken ChangeToken => new CancellationChangeToken(_changed.Token);

        public void SignalChange() => _changed.Cancel();
    }
}
