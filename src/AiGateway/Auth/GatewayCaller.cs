using AiGateway.Configuration;

namespace AiGateway.Auth;

/// <summary>The authenticated caller of a request, set by authentication and read by the pipeline.</summary>
internal sealed class GatewayCaller
{
    public static readonly GatewayCaller Anonymous = new("anonymous", null, ModelMatcher.All);

    public GatewayCaller(string name, string? team, ModelMatcher models)
    {
        Name = name;
        Team = team;
        Models = models;
    }

    /// <summary>The key's configured name; safe for logs and metrics.</summary>
    public string Name { get; }

    public string? Team { get; }

    public ModelMatcher Models { get; }
}
