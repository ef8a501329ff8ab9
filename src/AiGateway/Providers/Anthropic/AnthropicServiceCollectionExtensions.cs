using AiGateway.Tokens;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AiGateway.Providers.Anthropic;

internal static class AnthropicServiceCollectionExtensions
{
    /// <summary>
    /// Registers what the Anthropic surface needs besides the proxy: the local token counter for
    /// <c>count_tokens</c>. The tokenizer registry is created lazily unless token counting is also
    /// registered with its warm-up; safe to call more than once.
    /// </summary>
    public static IServiceCollection AddAnthropicSurface(this IServiceCollection services)
    {
        services.TryAddSingleton<TokenizerRegistry>();
        services.TryAddSingleton<MessagesTokenCounter>();
        return services;
    }
}
