using AiGateway.Protocol;

namespace AiGateway.Configuration;

/// <summary>A model's prices in US dollars per million tokens, compiled from <see cref="PricingOptions"/>.</summary>
internal sealed record ModelPricing(double InputPerMillion, double OutputPerMillion, double CachedInputPerMillion)
{
    public static ModelPricing? From(PricingOptions? options) => options is null
        ? null
        : new ModelPricing(options.InputPerMillion ?? 0, options.OutputPerMillion ?? 0, options.CachedInputPerMillion ?? options.InputPerMillion ?? 0);

    /// <summary>The cost of one request's usage; cached prompt tokens (part of the prompt) at the cached price.</summary>
    public double Cost(TokenUsage usage)
    {
        var cached = Math.Clamp(usage.CachedTokens, 0, usage.PromptTokens);
        return ((usage.PromptTokens - cached) * InputPerMillion + cached * CachedInputPerMillion + usage.CompletionTokens * OutputPerMillion) / 1_000_000d;
    }
}
