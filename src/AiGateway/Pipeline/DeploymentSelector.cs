using AiGateway.Configuration;

namespace AiGateway.Pipeline;

/// <summary>Picks a deployment by weight among those that can take traffic.</summary>
internal static class DeploymentSelector
{
    /// <param name="deployments">The model's deployments in catalog order.</param>
    /// <param name="usable">Whether a deployment can take this request.</param>
    /// <param name="random">A uniform value in [0, 1).</param>
    public static Deployment? Pick(Deployment[] deployments, Func<Deployment, bool> usable, double random)
    {
        if (deployments.Length == 1)
        {
            var only = deployments[0];
            return only.Weight > 0 && usable(only) ? only : null;
        }

        long total = 0;
        foreach (var deployment in deployments)
        {
            if (deployment.Weight > 0 && usable(deployment)) total += deployment.Weight;
        }
        if (total == 0) return null;

        var target = (long)(random * total);
        foreach (var deployment in deployments)
        {
            if (deployment.Weight <= 0 || !usable(deployment)) continue;
            if (target < deployment.Weight) return deployment;
            target -= deployment.Weight;
        }
        return null;
    }
}
