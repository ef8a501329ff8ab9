using System.Collections.Frozen;
using AiGateway.Providers;
using AiGateway.Providers.Anthropic;
using AiGateway.Providers.AzureOpenAI;
using AiGateway.Providers.Mock;
using AiGateway.Providers.OpenAI;
using AiGateway.RateLimiting;

namespace AiGateway.Configuration;

/// <summary>Turns validated options into the immutable <see cref="GatewayConfig"/> the hot path reads.</summary>
internal static class GatewayConfigCompiler
{
    /// <param name="time">The clock JWT lifetimes are checked against; the system clock when null.</param>
    public static GatewayConfig Compile(GatewayOptions options, int version, Func<string, string?> readVariable, TimeProvider? time = null)
    {
        var clusters = new Dictionary<string, UpstreamCluster>(StringComparer.Ordinal);
        foreach (var (id, cluster) in options.Clusters)
        {
            var adapter = AdapterFor(cluster.Provider);
            var (credential, problem) = ResolveCredential(cluster.ApiKey, readVariable);
            if (cluster.ApiKey is null && !adapter.CredentialOptional && adapter.IsProxied)
            {
                problem = "no apiKey is configured";
            }
            clusters[id] = new UpstreamCluster
            {
                Id = id,
                Adapter = adapter,
                Credential = credential,
                CredentialProblem = problem,
                ApiVersion = cluster.ApiVersion,
                Mock = cluster.Mock,
                Options = cluster,
            };
        }

        var models = new List<CatalogModel>(options.Models.Count);
        foreach (var model in options.Models)
        {
            var deployments = model.Deployments.Select(d =>
            {
                var upstream = d.Model ?? model.Name;
                return new Deployment
                {
                    Name = d.Name ?? $"{d.Cluster}/{upstream}",
                    Cluster = clusters[d.Cluster],
                    UpstreamModel = upstream,
                    UpstreamModelJson = Deployment.EncodeJsonString(upstream),
                    Weight = d.Weight,
                    Limit = Rule(LimitScopeKind.Deployment, d.Name ?? $"{d.Cluster}/{upstream}", d.RateLimit),
                    Priority = d.Priority,
                };
            }).ToArray();
            models.Add(new CatalogModel
            {
                Name = model.Name,
                Deployments = deployments,
                OwnedBy = model.OwnedBy ?? deployments[0].Cluster.Adapter.Name,
                ContextWindow = model.ContextWindow,
                MaxOutputTokens = model.MaxOutputTokens,
                DefaultMaxTokens = model.DefaultMaxTokens,
                Encoding = model.Encoding ?? Tokens.TokenEncodings.ForModel(deployments[0].UpstreamModel),
                Limit = Rule(LimitScopeKind.Model, model.Name, model.RateLimit),
                MaxAttempts = model.Resilience?.MaxAttempts ?? options.Resilience.MaxAttempts,
                FirstTokenTimeout = model.Resilience?.FirstTokenTimeout ?? options.Resilience.FirstTokenTimeout,
                TotalTimeout = model.Resilience?.TotalTimeout ?? options.Resilience.TotalTimeout,
                LoadBalancing = model.Resilience?.LoadBalancing ?? options.Resilience.LoadBalancing,
                Pricing = ModelPricing.From(model.Pricing),
                Cache = Caching.ModelCachePolicy.Compile(options.Cache, model.Cache),

                PromptTransforms = PromptTransforms.PromptPolicy.Compile(model.PromptTransforms),
            });
        }

        var byName = models.ToDictionary(m => m.Name, StringComparer.Ordinal);
        for (var i = 0; i < models.Count; i++)
        {
            models[i].Fallbacks = options.Models[i].Fallbacks.Select(name => byName[name]).ToArray();
        }

        var keys = options.Auth.Keys.ToFrozenDictionary(
            k => k.Sha256.ToLowerInvariant(),
            k => new GatewayKey
            {
                Name = k.Name,
                Team = k.Team,
                Models = new ModelMatcher(k.Models),
                Limit = Rule(LimitScopeKind.Key, k.Name, k.RateLimit),
                TeamLimit = k.Team is not null && options.Auth.Teams.TryGetValue(k.Team, out var team) ? Rule(LimitScopeKind.Team, k.Team, team.RateLimit) : null,
                TeamPromptTransforms = k.Team is not null && options.Auth.Teams.TryGetValue(k.Team, out var teamOptions) ? PromptTransforms.PromptPolicy.Compile(teamOptions.PromptTransforms) : null,
                PromptTransforms = PromptTransforms.PromptPolicy.Compile(k.PromptTransforms),
                Budget = Usage.Budget.From(Usage.BudgetScope.Key, k.Name, k.Budget),
                TeamBudget = k.Team is not null && options.Auth.Teams.TryGetValue(k.Team, out var budgetTeam) ? Usage.Budget.From(Usage.BudgetScope.Team, k.Team, budgetTeam.Budget) : null,
            },
            StringComparer.Ordinal);

        return new GatewayConfig
        {
            Version = version,
            // Aliases resolve to the same catalog entry as the model's own name.
            Models = models.SelectMany((m, i) => options.Models[i].Aliases.Prepend(m.Name).Select(name => KeyValuePair.Create(name, m)))
                .ToFrozenDictionary(StringComparer.Ordinal),
            ModelList = models,
            Clusters = clusters.ToFrozenDictionary(StringComparer.Ordinal),
            KeysBySha256 = keys,
            // From the compiled keys; teams too, as JWT callers carry a team's budget without any key.
            HasBudgets = keys.Values.Any(k => k.Budget is not null || k.TeamBudget is not null)
                || options.Auth.Teams.Values.Any(t => Usage.Budget.From(Usage.BudgetScope.Team, "", t.Budget) is not null),
            AllowAnonymous = options.Auth.AllowAnonymous,
            Jwt = options.Auth.Jwt is { } jwt
                ? Auth.JwtValidator.Compile(jwt, options.Auth, team => Rule(LimitScopeKind.Team, team, options.Auth.Teams[team].RateLimit), time)
                : null,
            MaxRequestBodyBytes = options.Limits.MaxRequestBodyBytes,
            Resilience = options.Resilience,
            Cache = options.Cache,

            PromptTransforms = PromptTransforms.PromptPolicy.Compile(options.PromptTransforms),
        };
    }

    private static LimitRule? Rule(LimitScopeKind kind, string id, RateLimitSettings? settings) =>
        settings is { RequestsPerMinute: not null } or { TokensPerMinute: not null }
            ? LimitRule.PerMinute(kind, id, settings.RequestsPerMinute, settings.TokensPerMinute)
            : null;

    public static ProviderAdapter AdapterFor(string provider) => provider switch
    {
        "openai" => OpenAiAdapter.Instance,
        "azure" => AzureOpenAiAdapter.Instance,
        "anthropic" => AnthropicAdapter.Instance,
        "mock" => MockAdapter.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "unknown provider"),
    };

    /// <summary>Resolves <c>env:NAME</c> or <c>file:/path</c>. The problem text names the reference, never a value.</summary>
    internal static (string? Credential, string? Problem) ResolveCredential(string? reference, Func<string, string?> readVariable)
    {
        if (reference is null) return (null, null);
        if (reference.StartsWith("env:", StringComparison.Ordinal))
        {
            var name = reference[4..];
            var value = readVariable(name);
            return string.IsNullOrWhiteSpace(value) ? (null, $"environment variable {name} is not set") : (value.Trim(), null);
        }
        if (reference.StartsWith("file:", StringComparison.Ordinal))
        {
            var path = reference[5..];
            try
            {
                var value = File.ReadAllText(path).Trim();
                return value.Length == 0 ? (null, $"credential file {path} is empty") : (value, null);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return (null, $"credential file {path} cannot be read");
            }
        }
        return (null, "the credential reference is not env: or file:");
    }
}
