using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiGateway.RateLimiting;

internal static class RateLimitingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IAdmissionLimiter"/> with the Redis store when <c>ConnectionStrings:Redis</c> is set
    /// (unless <c>RateLimiting:Store</c> says <c>InMemory</c>), otherwise the in-memory store. Options are
    /// validated at start-up. The store choice is made here, once; it is not hot-reloaded.
    /// </summary>
    public static IServiceCollection AddAiRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RateLimitOptions>>(new RateLimitOptionsValidator(configuration)));
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<RateLimitingMetrics>();

        var store = configuration.GetSection(RateLimitOptions.SectionName).GetValue(nameof(RateLimitOptions.Store), RateLimitStoreKind.Auto);
        var connectionString = configuration.GetConnectionString(RateLimitOptions.RedisConnectionStringName);
        var useRedis = store == RateLimitStoreKind.Redis
            || (store == RateLimitStoreKind.Auto && !string.IsNullOrWhiteSpace(connectionString));

        if (useRedis)
        {
            services.TryAddSingleton(sp => new RedisConnection(
                connectionString ?? string.Empty,
                sp.GetRequiredService<IOptions<RateLimitOptions>>().Value));
            services.TryAddSingleton<IRateLimitStore>(sp => new RedisRateLimitStore(
                sp.GetRequiredService<RedisConnection>(),
                sp.GetRequiredService<IOptions<RateLimitOptions>>().Value.RedisKeyPrefix,
                sp.GetRequiredService<ILogger<RedisRateLimitStore>>()));
            services.AddHostedService<RedisConnectionWarmup>();
        }
        else
        {
            services.TryAddSingleton<IRateLimitStore>(sp => new InMemoryRateLimitStore(
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<IOptions<RateLimitOptions>>().Value.InMemorySweepInterval));
        }

        services.TryAddSingleton<IAdmissionLimiter, AdmissionLimiter>();
        return services;
    }
}
