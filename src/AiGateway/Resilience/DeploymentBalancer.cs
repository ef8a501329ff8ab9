using AiGateway.Configuration;

namespace AiGateway.Resilience;

/// <summary>
/// Chooses the deployment of a model for one attempt: among those with a usable credential, an available
/// breaker and not yet tried by this request, in the lowest priority tier that has any, by the model's
/// strategy — weighted random (default), least busy, or lowest latency.
/// </summary>
internal sealed class DeploymentBalancer(DeploymentHealth health)
{
    /// <summary>A deployment of <paramref name="model"/>, else of its fallbacks in order; with the model that serves it.</summary>
    public (CatalogModel Model, Deployment? Deployment) PickWithFallbacks(CatalogModel model, IReadOnlyCollection<Deployment>? exclude)
    {
        var deployment = Pick(model, exclude, Random.Shared.NextDouble());
        if (deployment is not null) return (model, deployment);
        foreach (var fallback in model.Fallbacks)
        {
            deployment = Pick(fallback, exclude, Random.Shared.NextDouble());
            if (deployment is not null) return (fallback, deployment);
        }
        return (model, null);
    }

    public Deployment? Pick(CatalogModel model, IReadOnlyCollection<Deployment>? exclude, double random)
    {
        var tier = int.MaxValue;
        foreach (var deployment in model.Deployments)
        {
            if (Usable(deployment, exclude) && deployment.Priority < tier) tier = deployment.Priority;
        }
        if (tier == int.MaxValue) return null;

        return model.LoadBalancing switch
        {
            "least-busy" => Best(model, exclude, tier, d => health.For(d).InFlight, random),
            "lowest-latency" => Best(model, exclude, tier, d => health.For(d).AverageFirstByte.Ticks, random),
            _ => Weighted(model, exclude, tier, random),
        };
    }

    private bool Usable(Deployment deployment, IReadOnlyCollection<Deployment>? exclude) =>
        deployment.Weight > 0
        && deployment.Cluster.CredentialProblem is null
        && (exclude is null || !exclude.Contains(deployment))
        && health.For(deployment).Breaker.IsAvailable;

    private Deployment? Weighted(CatalogModel model, IReadOnlyCollection<Deployment>? exclude, int tier, double random)
    {
        long total = 0;
        foreach (var d in model.Deployments)
        {
            if (d.Priority == tier && Usable(d, exclude)) total += d.Weight;
        }
        var target = (long)(random * total);
        foreach (var d in model.Deployments)
        {
            if (d.Priority != tier || !Usable(d, exclude)) continue;
            if (target < d.Weight) return d;
            target -= d.Weight;
        }
        return null;
    }

    private Deployment? Best(CatalogModel model, IReadOnlyCollection<Deployment>? exclude, int tier, Func<Deployment, long> score, double random)
    {
        Deployment? best = null;
        long bestScore = long.MaxValue;
        var ties = 0;
        foreach (var d in model.Deployments)
        {
            if (d.Priority != tier || !Usable(d, exclude)) continue;
            var value = score(d);
            if (value < bestScore)
            {
                best = d;
                bestScore = value;
                ties = 1;
            }
            else if (value == bestScore)
            {
                // Reservoir choice among equals, so ties spread instead of piling on the first.
                ties++;
                if (random * ties < 1) best = d;
                random = random * ties % 1;
            }
        }
        return best;
    }
}
