using System.Runtime.CompilerServices;
using AiGateway.Pipeline;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace AiGateway.Resilience;

/// <summary>
/// YARP passive health from the same signals as the deployment breakers: a destination that fails
/// three times in a row (transport error, timeout, 429 or 5xx) leaves the cluster's rotation for the
/// reactivation period, so a cluster with several destinations routes around the broken one. A request
/// whose client left counts neither way.
/// </summary>
internal sealed class GatewayPassiveHealthPolicy(IDestinationHealthUpdater updater, IServiceProvider services) : IPassiveHealthCheckPolicy
{
    public const string PolicyName = "AiGatewayFailures";
    public const int ConsecutiveFailures = 3;

    private static readonly TimeSpan DefaultReactivation = TimeSpan.FromSeconds(30);
    private readonly ConditionalWeakTable<DestinationState, StrongBox<int>> _failures = new();

    public string Name => PolicyName;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        var aiRequest = context.GetAiRequest();
        // A client that left (the stop button mid-stream, or gone before the first byte) says nothing about the
        // destination either way. Attempt deadlines cancel a token of their own, and an answer the gateway cut because
        // the upstream broke off is marked as such, so both still count.
        if (aiRequest is { UpstreamBroke: false, ClientAborted.IsCancellationRequested: true })
        {
            return;
        }
        var failed = context.GetForwarderErrorFeature() is not null
            || aiRequest?.Failure is not null
            || aiRequest?.UpstreamBroke == true
            || context.Response.StatusCode is 429 or >= 500;
        var count = _failures.GetValue(destination, static _ => new StrongBox<int>());
        if (!failed)
        {
            Volatile.Write(ref count.Value, 0);
            return;
        }
        if (Interlocked.Increment(ref count.Value) >= ConsecutiveFailures)
        {
            Volatile.Write(ref count.Value, 0);
            // YARP passes the route's cluster; the request was reassigned to the deployment's cluster.
            var proxied = context.GetReverseProxyFeature().Cluster.Config.ClusterId;
            if (proxied != cluster.ClusterId && services.GetRequiredService<Yarp.ReverseProxy.IProxyStateLookup>().TryGetCluster(proxied, out var actual))
            {
                cluster = actual;
            }
            var reactivation = cluster.Model.Config.HealthCheck?.Passive?.ReactivationPeriod ?? DefaultReactivation;
            updater.SetPassive(cluster, destination, DestinationHealth.Unhealthy, reactivation);
        }
    }
}
