using System.Collections.Frozen;
using System.Text.Json;
using AiGateway.Providers;
using AiGateway.RateLimiting;

namespace AiGateway.Configuration;

/// <summary>
/// An immutable, validated snapshot of the configuration, compiled for the hot path. A reload builds a
/// new one and swaps it in whole, so a request sees one consistent config from start to end.
/// </summary>
internal sealed class GatewayConfig
{
    public required int Version { get; init; }
    public required FrozenDictionary<string, CatalogModel> Models { get; init; }
    public required IReadOnlyList<CatalogModel> ModelList { get; init; }
    public required FrozenDictionary<string, UpstreamCluster> Clusters { get; init; }
    public required FrozenDictionary<string, GatewayKey> KeysBySha256 { get; init; }

    /// <summary>Whether any key or team has a spend budget (only then are the ledger's sums read).</summary>
    public bool HasBudgets { get; init; }
    public required bool AllowAnonymous { get; init; }

    /// <summary>Keys of <see cref="KeysBySha256"/> already verified against this snapshot.</summary>
    public Auth.VerifiedKeyCache VerifiedKeys { get; } = new();

    /// <summary>The JWT validator of <c>auth.jwt</c>, or null when JWTs are not accepted.</summary>
    public Auth.JwtValidator? Jwt { get; init; }
    public required long MaxRequestBodyBytes { get; init; }
    public required ResilienceOptions Resilience { get; init; }

    /// <summary>The response cache's global settings (TTL bound, entry size).</summary>
    public CacheOptions Cache { get; init; } = new();

    /// <summary>Prompt transforms for every request, or null when none are configured.</summary>
    public PromptTransforms.PromptPolicy? PromptTransforms { get; init; }
}

/// <summary>A public model and its deployments.</summary>
internal sealed class CatalogModel
{
    public required string Name { get; init; }
    public required Deployment[] Deployments { get; init; }
    public required string OwnedBy { get; init; }
    public int? ContextWindow { get; init; }
    public int? MaxOutputTokens { get; init; }
    public int? DefaultMaxTokens { get; init; }

    /// <summary>The tokenizer encoding used to count this model's prompts.</summary>
    public required string Encoding { get; init; }

    /// <summary>Limits across all callers of the model, or null.</summary>
    public LimitRule? Limit { get; init; }

    /// <summary>Models tried in order after this one's deployments; filled in once the whole catalog is built.</summary>
    public CatalogModel[] Fallbacks { get; set; } = [];

    public int MaxAttempts { get; init; } = 3;
    public TimeSpan? FirstTokenTimeout { get; init; }
    public TimeSpan? TotalTimeout { get; init; }
    public string LoadBalancing { get; init; } = "weighted";
    /// <summary>Prices for the cost metric, or null.</summary>
    public ModelPricing? Pricing { get; init; }
    /// <summary>How this model's answers are cached, or null when they are not.</summary>
    public Caching.ModelCachePolicy? Cache { get; init; }


    /// <summary>Prompt transforms of this model, or null.</summary>
    public PromptTransforms.PromptPolicy? PromptTransforms { get; init; }
}

/// <summary>One deployment: where a model is served and under which upstream name.</summary>
internal sealed class Deployment
{
    public required string Name { get; init; }
    public required UpstreamCluster Cluster { get; init; }
    public required string UpstreamModel { get; init; }

    /// <summary>The upstream model name as a JSON string token, quotes included, ready to splice into a body.</summary>
    public required byte[] UpstreamModelJson { get; init; }

    public required int Weight { get; init; }

    /// <summary>Limits of this deployment (the provider's quota), or null.</summary>
    public LimitRule? Limit { get; init; }

    /// <summary>Priority tier; lower is preferred.</summary>
    public int Priority { get; init; }

    public static byte[] EncodeJsonString(string value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(value.Length + 8);
        using (var writer = new Utf8JsonWriter(buffer, Protocol.OpenAiError.WriterOptions))
        {
            writer.WriteStringValue(value);
        }
        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>An upstream endpoint family: a YARP cluster, or the in-process mock.</summary>
internal sealed class UpstreamCluster
{
    public required string Id { get; init; }
    public required ProviderAdapter Adapter { get; init; }

    /// <summary>The resolved provider credential; <c>null</c> when none is configured or it could not be resolved.</summary>
    public string? Credential { get; init; }

    /// <summary>Why the configured credential is unusable, for the start-up log and the client error; never the value.</summary>
    public string? CredentialProblem { get; init; }

    public string? ApiVersion { get; init; }
    public MockOptions Mock { get; init; } = new();
    public ClusterOptions Options { get; init; } = new();
}

/// <summary>A caller identity backed by a configured gateway key.</summary>
internal sealed class GatewayKey
{
    public required string Name { get; init; }
    public string? Team { get; init; }
    public required ModelMatcher Models { get; init; }

    /// <summary>Limits of this key, or null.</summary>
    public LimitRule? Limit { get; init; }

    /// <summary>Limits shared by the key's team, or null.</summary>
    public LimitRule? TeamLimit { get; init; }

    /// <summary>Prompt transforms of the key's team, or null.</summary>
    public PromptTransforms.PromptPolicy? TeamPromptTransforms { get; init; }

    /// <summary>Prompt transforms of the key, or null.</summary>
    public PromptTransforms.PromptPolicy? PromptTransforms { get; init; }

    /// <summary>Spend budget of this key, or null.</summary>
    public Usage.Budget? Budget { get; init; }

    /// <summary>Spend budget of the key's team, or null.</summary>
    public Usage.Budget? TeamBudget { get; init; }

    private Auth.GatewayCaller? _caller;

    /// <summary>The caller this key authenticates as; immutable, so one instance serves every request.</summary>
    public Auth.GatewayCaller Caller => _caller ??= new Auth.GatewayCaller(Name, Team, Models, Limit, TeamLimit, TeamPromptTransforms, PromptTransforms,
        budget: Budget, teamBudget: TeamBudget);
}

/// <summary>Which public models an identity may use: exact names, <c>prefix*</c> patterns, or everything.</summary>
internal sealed class ModelMatcher
{
    public static readonly ModelMatcher All = new([]);

    /// <summary>Allows no model (a JWT whose models claim is present but empty).</summary>
    public static readonly ModelMatcher None = new();

    private readonly FrozenSet<string> _exact;
    private readonly string[] _prefixes;
    private readonly bool _all;

    private ModelMatcher()
    {
        _exact = FrozenSet<string>.Empty;
        _prefixes = [];
    }

    public ModelMatcher(IReadOnlyCollection<string> patterns)
    {
        _all = patterns.Count == 0 || patterns.Contains("*");
        _exact = patterns.Where(p => !p.EndsWith('*')).ToFrozenSet(StringComparer.Ordinal);
        _prefixes = patterns.Where(p => p.Length > 1 && p.EndsWith('*')).Select(p => p[..^1]).ToArray();
    }

    public bool Allows(string model)
    {
        if (_all || _exact.Contains(model)) return true;
        foreach (var prefix in _prefixes)
        {
            if (model.StartsWith(prefix, StringComparison.Ordinal)) return true;
        }
        return false;
    }
}
