using AiGateway.Configuration;
using AiGateway.RateLimiting;

namespace AiGateway.Auth;

/// <summary>The authenticated caller of a request, set by authentication and read by the pipeline.</summary>
internal sealed class GatewayCaller
{
    public static readonly GatewayCaller Anonymous = new("anonymous", null, ModelMatcher.All);

    public GatewayCaller(string name, string? team, ModelMatcher models, LimitRule? limit = null, LimitRule? teamLimit = null,
        PromptTransforms.PromptPolicy? teamPromptTransforms = null, PromptTransforms.PromptPolicy? promptTransforms = null, string? cacheIdentity = null,
        Usage.Budget? budget = null, Usage.Budget? teamBudget = null)
    {
        Budget = budget;
        TeamBudget = teamBudget;
        CacheIdentity = cacheIdentity ?? name;
        TeamPromptTransforms = teamPromptTransforms;
        PromptTransforms = promptTransforms;
        Name = name;
        Team = team;
        Models = models;
        Limit = limit;
        TeamLimit = teamLimit;
    }

    /// <summary>The key's own limits, or null.</summary>
    public LimitRule? Limit { get; }

    /// <summary>The key's team's limits, or null.</summary>
    public LimitRule? TeamLimit { get; }

    /// <summary>The key's own spend budget, or null.</summary>
    public Usage.Budget? Budget { get; }

    /// <summary>The key's team's spend budget, or null.</summary>
    public Usage.Budget? TeamBudget { get; }

    /// <summary>The key's configured name; safe for logs and metrics.</summary>
    public string Name { get; }

    public string? Team { get; }

    /// <summary>
    /// Who a key-scoped cache entry belongs to: the key's name, or for a JWT the identity name plus a hash of
    /// the subject, so JWT callers sharing one metric name never share cache entries. Never a raw claim.
    /// </summary>
    public string CacheIdentity { get; }

    public ModelMatcher Models { get; }

    /// <summary>Prompt transforms of the key's team, or null.</summary>
    public PromptTransforms.PromptPolicy? TeamPromptTransforms { get; }

    /// <summary>Prompt transforms of the key, or null.</summary>
    public PromptTransforms.PromptPolicy? PromptTransforms { get; }
}
