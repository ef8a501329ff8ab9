using AiGateway.Configuration;
using AiGateway.RateLimiting;

namespace AiGateway.Auth;

/// <summary>The authenticated caller of a request, set by authentication and read by the pipeline.</summary>
internal sealed class GatewayCaller
{
    public static readonly GatewayCaller Anonymous = new("anonymous", null, ModelMatcher.All);

    public GatewayCaller(string name, string? team, ModelMatcher models, LimitRule? limit = null, LimitRule? teamLimit = null,
        PromptTransforms.PromptPolicy? teamPromptTransforms = null, PromptTransforms.PromptPolicy? promptTransforms = null)
    {
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

    /// <summary>The key's configured name; safe for logs and metrics.</summary>
    public string Name { get; }

    public string? Team { get; }

    public ModelMatcher Models { get; }

    /// <summary>Prompt transforms of the key's team, or null.</summary>
    public PromptTransforms.PromptPolicy? TeamPromptTransforms { get; }

    /// <summary>Prompt transforms of the key, or null.</summary>
    public PromptTransforms.PromptPolicy? PromptTransforms { get; }
}
