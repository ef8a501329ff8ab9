using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AiGateway.Tokens;

internal static class TokenCountingServiceCollectionExtensions
{
    /// <summary>
    /// Registers the <see cref="TokenizerRegistry"/> singleton and warms it at start-up. Safe to call more than once.
    /// </summary>
    public static IServiceCollection AddTokenCounting(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<TokenizerRegistry>();
        services.AddHostedService<TokenizerWarmupService>();
        return services;
    }
}
