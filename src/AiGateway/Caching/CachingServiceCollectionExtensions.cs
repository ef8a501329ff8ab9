using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AiGateway.Caching;

internal static class CachingServiceCollectionExtensions
{
    /// <summary>Registers the response cache's storage and metrics; whether a model caches is config, read per request.</summary>
    public static IServiceCollection AddResponseCache(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<CacheMetrics>();
        services.TryAddSingleton<ResponseCacheStore>();
        return services;
    }
}
