using AiGateway.Configuration;

namespace AiGateway.Caching;

/// <summary>Who shares cache entries.</summary>
internal enum CacheScope
{
    /// <summary>The caller's team, or its key when it has no team.</summary>
    Team,

    /// <summary>The caller's key.</summary>
    Key,

    /// <summary>Every caller of the model.</summary>
    Shared,
}

/// <summary>A model's compiled cache settings; a model without one is not cached.</summary>
internal sealed record ModelCachePolicy(TimeSpan Ttl, CacheScope Scope, bool DeterministicOnly)
{
    /// <summary>The model's settings over the global ones, or null when caching is off for the model.</summary>
    public static ModelCachePolicy? Compile(CacheOptions global, ModelCacheOptions? model)
    {
        if (!(model?.Enabled ?? global.Enabled))
        {
            return null;
        }
        var scope = (model?.Scope ?? global.Scope) switch
        {
            "key" => CacheScope.Key,
            "shared" => CacheScope.Shared,
            _ => CacheScope.Team,
        };
        return new ModelCachePolicy(model?.Ttl ?? global.Ttl, scope, model?.DeterministicOnly ?? global.DeterministicOnly);
    }
}
