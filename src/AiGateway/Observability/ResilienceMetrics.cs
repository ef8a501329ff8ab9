using AiGateway.Resilience;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AiGateway.Configuration;

namespace AiGateway.Observability;

/// <summary>
/// Upstream attempts (retries and fallbacks) and circuit-breaker state, meter <c>AiGateway.Resilience</c>.
/// <para>
/// Attempts are counted by <see cref="UpstreamAttempts"/>, which the failover step calls around every
/// attempt, so its retries (same deployment) and fallbacks (another deployment) are counted, traced and
/// logged the same way. Code that retries
/// somewhere else calls <see cref="Attempt"/> itself. A circuit breaker reports transitions with
/// <see cref="SetBreakerState"/>; every deployment in the catalog is reported, closed until told otherwise.
/// </para>
/// </summary>
internal sealed class ResilienceMetrics
{
    public const string MeterName = "AiGateway.Resilience";

    private readonly Counter<long> _attempts;
    private readonly GatewayConfigStore _configStore;
    private readonly ConcurrentDictionary<string, BreakerState> _breakers = new(StringComparer.Ordinal);

    public ResilienceMetrics(IMeterFactory meterFactory, GatewayConfigStore configStore)
    {
        _configStore = configStore;
        var meter = meterFactory.Create(MeterName);
        _attempts = meter.CreateCounter<long>(
            "aigateway.upstream.attempts",
            unit: "{attempt}",
            description: "Upstream attempts by provider, deployment, kind (initial, retry, fallback) and outcome (status code, or error.type when no response came).");
        meter.CreateObservableGauge(
            "aigateway.breaker.state",
            ObserveBreakers,
            unit: "{state}",
            description: "Circuit-breaker state per deployment: 0 closed, 1 half-open, 2 open.");
    }

    /// <summary>Counts one upstream attempt. <paramref name="errorType"/> is set when no HTTP response came back.</summary>
    public void Attempt(Deployment deployment, AttemptKind kind, int status, string? errorType) =>
        _attempts.Add(
            1,
            new KeyValuePair<string, object?>(GenAiAttributes.ProviderName, GenAiAttributes.Provider(deployment.Cluster.Adapter.Name)),
            new KeyValuePair<string, object?>(GenAiAttributes.Deployment, deployment.Name),
            new KeyValuePair<string, object?>(GenAiAttributes.AttemptKind, KindLabel(kind)),
            errorType is null
                ? new KeyValuePair<string, object?>(GenAiAttributes.HttpStatusCode, GenAiAttributes.Status(status))
                : new KeyValuePair<string, object?>(GenAiAttributes.ErrorType, errorType));

    /// <summary>Reports a breaker transition for a deployment (its catalog name).</summary>
    public void SetBreakerState(string deployment, BreakerState state)
    {
        // Called after every attempt; a concurrent dictionary's write takes a lock, a read does not.
        if (!_breakers.TryGetValue(deployment, out var current) || current != state) _breakers[deployment] = state;
    }

    internal static string KindLabel(AttemptKind kind) => kind switch
    {
        AttemptKind.Retry => "retry",
        AttemptKind.Fallback => "fallback",
        _ => "initial",
    };

    private IEnumerable<Measurement<int>> ObserveBreakers()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var model in _configStore.Current.ModelList)
        {
            foreach (var deployment in model.Deployments)
            {
                if (!seen.Add(deployment.Name)) continue;
                var state = _breakers.TryGetValue(deployment.Name, out var s) ? s : BreakerState.Closed;
                yield return new Measurement<int>((int)state, new KeyValuePair<string, object?>(GenAiAttributes.Deployment, deployment.Name));
            }
        }
    }
}

