using System.Text.RegularExpressions;

namespace AiGateway.Configuration;

/// <summary>
/// Validates <see cref="GatewayOptions"/> and reports every problem at once, each with the JSON path
/// of the offending value in the config file (e.g. <c>models[2].deployments[0].cluster</c>).
/// </summary>
internal static partial class GatewayOptionsValidator
{
    public static readonly string[] Providers = ["openai", "azure", "anthropic", "mock"];

    public static readonly string[] LoadBalancingModes = ["weighted", "least-busy", "lowest-latency"];

    public const long MinBodyBytes = 1024;
    public const long MaxBodyBytes = 256L * 1024 * 1024;

    private static void ValidateJwt(JwtOptions jwt, List<string> errors)
    {
        const string path = "auth.jwt";
        if (string.IsNullOrWhiteSpace(jwt.Name)) errors.Add($"{path}.name: must not be empty.");
        if (string.IsNullOrWhiteSpace(jwt.Issuer)) errors.Add($"{path}.issuer: the issuer (the tokens' exact 'iss') is required.");
        if (jwt.Audiences.Count == 0) errors.Add($"{path}.audiences: at least one audience is required.");
        for (var i = 0; i < jwt.Audiences.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(jwt.Audiences[i])) errors.Add($"{path}.audiences[{i}]: must not be empty.");
        }
        var sources = (jwt.Authority is null ? 0 : 1) + (jwt.JwksUri is null ? 0 : 1) + (jwt.SigningKeys is null ? 0 : 1) + (jwt.SigningKeysFile is null ? 0 : 1);
        if (sources != 1)
        {
            errors.Add($"{path}: set exactly one source of signing keys: authority, jwksUri, signingKeys or signingKeysFile.");
        }
        ValidateKeyUrl(jwt.Authority, $"{path}.authority", errors);
        ValidateKeyUrl(jwt.JwksUri, $"{path}.jwksUri", errors);
        if (jwt.SigningKeys is not null || jwt.SigningKeysFile is not null)
        {
            var keysPath = jwt.SigningKeysFile is null ? $"{path}.signingKeys" : $"{path}.signingKeysFile";
            try
            {
                if (Auth.JwtValidator.SigningKeysOf(Auth.JwtValidator.ReadInlineKeys(jwt)!).Count == 0) errors.Add($"{keysPath}: holds no usable signing key.");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors.Add($"{keysPath}: the file cannot be read.");
            }
            catch (Exception e) when (e is ArgumentException or System.Text.Json.JsonException or FormatException)
            {
                errors.Add($"{keysPath}: not a valid JSON Web Key Set.");
            }
        }
        if (jwt.ClockSkew < TimeSpan.Zero || jwt.ClockSkew > TimeSpan.FromMinutes(30)) errors.Add($"{path}.clockSkew: must be between 00:00:00 and 00:30:00.");
        if (string.IsNullOrWhiteSpace(jwt.NameClaim)) errors.Add($"{path}.nameClaim: must not be empty.");
        if (jwt.TeamClaim is { } team && string.IsNullOrWhiteSpace(team)) errors.Add($"{path}.teamClaim: must not be empty.");
        if (jwt.ModelsClaim is { } models && string.IsNullOrWhiteSpace(models)) errors.Add($"{path}.modelsClaim: must not be empty.");
        for (var i = 0; i < jwt.RequiredScopes.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(jwt.RequiredScopes[i]) || jwt.RequiredScopes[i].Contains(' ')) errors.Add($"{path}.requiredScopes[{i}]: must be one non-empty scope without spaces.");
        }
    }

    private static void ValidateKeyUrl(string? value, string path, List<string> errors)
    {
        if (value is null) return;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            errors.Add($"{path}: '{value}' is not an absolute https URL.");
        }
        else if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback)
        {
            // Keys fetched in clear could be swapped in transit; plain http only for a local issuer.
            errors.Add($"{path}: must use https (http only for a loopback address).");
        }
    }

    public static List<string> Validate(GatewayOptions options)
    {
        var errors = new List<string>();

        foreach (var (id, cluster) in options.Clusters)
        {
            var path = $"clusters.{id}";
            if (id == GatewayProxyConfigProvider.UnresolvedClusterId)
            {
                errors.Add($"{path}: the id '{id}' is reserved by the gateway.");
            }
            else if (!ClusterIdPattern().IsMatch(id))
            {
                errors.Add($"{path}: cluster ids may contain only letters, digits, '-', '_' and '.'.");
            }
            if (!Providers.Contains(cluster.Provider, StringComparer.Ordinal))
            {
                errors.Add($"{path}.provider: '{cluster.Provider}' is not a known provider; use one of {string.Join(", ", Providers)}.");
                continue;
            }
            if (cluster.Provider == "mock")
            {
                if (cluster.Mock.FirstTokenDelayMs is < 0 or > 600_000) errors.Add($"{path}.mock.firstTokenDelayMs: must be between 0 and 600000.");
                if (cluster.Mock.TokenDelayMs is < 0 or > 60_000) errors.Add($"{path}.mock.tokenDelayMs: must be between 0 and 60000.");
                if (cluster.Mock.EmbeddingDimensions is < 1 or > 8192) errors.Add($"{path}.mock.embeddingDimensions: must be between 1 and 8192.");
                continue;
            }
            if (cluster.Destinations.Count == 0)
            {
                errors.Add($"{path}.destinations: at least one destination is required.");
            }
            foreach (var (name, destination) in cluster.Destinations)
            {
                if (!Uri.TryCreate(destination.Address, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                {
                    errors.Add($"{path}.destinations.{name}.address: '{destination.Address}' is not an absolute http or https URL.");
                }
                else if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
                {
                    errors.Add($"{path}.destinations.{name}.address: a base URL must not carry a query, fragment or user info.");
                }
            }
            if (cluster.ApiKey is { } apiKey && !apiKey.StartsWith("env:", StringComparison.Ordinal) && !apiKey.StartsWith("file:", StringComparison.Ordinal))
            {
                // Never echo the value: it may be a pasted secret.
                errors.Add($"{path}.apiKey: must be a reference 'env:VARIABLE' or 'file:/path'; literal keys are not allowed in config files.");
            }
            else if (cluster.ApiKey is { Length: <= 5 })
            {
                errors.Add($"{path}.apiKey: the reference names no variable or file.");
            }
            if (cluster.AnthropicVersion is { } version && (cluster.Provider != "anthropic" || string.IsNullOrWhiteSpace(version)))
            {
                errors.Add($"{path}.anthropicVersion: only 'anthropic' clusters take it, and it must not be empty.");
            }
            if (cluster.ConnectTimeout is { } connect && (connect <= TimeSpan.Zero || connect > TimeSpan.FromMinutes(5)))
            {
                errors.Add($"{path}.connectTimeout: must be between 00:00:00.001 and 00:05:00.");
            }
            if (cluster.ActiveHealthCheck is { } health)
            {
                if (!health.Path.StartsWith('/')) errors.Add($"{path}.activeHealthCheck.path: must start with '/'.");
                if (health.Interval < TimeSpan.FromSeconds(1)) errors.Add($"{path}.activeHealthCheck.interval: must be at least 1 second.");
                if (health.Timeout <= TimeSpan.Zero) errors.Add($"{path}.activeHealthCheck.timeout: must be positive.");
            }
            if (cluster.ActivityTimeout is { } timeout && (timeout <= TimeSpan.Zero || timeout > TimeSpan.FromHours(1)))
            {
                errors.Add($"{path}.activityTimeout: must be between 00:00:00.001 and 01:00:00.");
            }
        }

        if (options.Models.Count == 0)
        {
            errors.Add("models: at least one model is required.");
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Models.Count; i++)
        {
            var model = options.Models[i];
            var path = $"models[{i}]";
            if (string.IsNullOrWhiteSpace(model.Name) || model.Name.Length > 256 || model.Name.Any(char.IsControl))
            {
                errors.Add($"{path}.name: a model needs a name of 1 to 256 printable characters.");
            }
            else if (!names.Add(model.Name))
            {
                errors.Add($"{path}.name: '{model.Name}' is defined more than once.");
            }
            if (model.ContextWindow is <= 0) errors.Add($"{path}.contextWindow: must be positive.");
            if (model.MaxOutputTokens is <= 0) errors.Add($"{path}.maxOutputTokens: must be positive.");
            if (model.DefaultMaxTokens is <= 0) errors.Add($"{path}.defaultMaxTokens: must be positive.");
            else if (model.DefaultMaxTokens > model.MaxOutputTokens) errors.Add($"{path}.defaultMaxTokens: must not exceed maxOutputTokens.");
            if (model.MaxOutputTokens > model.ContextWindow) errors.Add($"{path}.maxOutputTokens: must not exceed contextWindow.");
            if (model.Encoding is not null && !Tokens.TokenEncodings.IsSupported(model.Encoding))
            {
                errors.Add($"{path}.encoding: '{model.Encoding}' is not supported; use one of {string.Join(", ", Tokens.TokenEncodings.Supported)}.");
            }
            ValidateRateLimit(model.RateLimit, $"{path}.rateLimit", errors);
            for (var f = 0; f < model.Fallbacks.Count; f++)
            {
                var fallback = model.Fallbacks[f];
                if (fallback == model.Name) errors.Add($"{path}.fallbacks[{f}]: a model cannot fall back to itself.");
                else if (!options.Models.Any(m => m.Name == fallback)) errors.Add($"{path}.fallbacks[{f}]: model '{fallback}' is not in the catalog.");
            }
            if (model.Resilience is { } r)
            {
                if (r.MaxAttempts is < 1 or > 10) errors.Add($"{path}.resilience.maxAttempts: must be between 1 and 10.");
                if (r.FirstTokenTimeout is { } ft && ft <= TimeSpan.Zero) errors.Add($"{path}.resilience.firstTokenTimeout: must be positive.");
                if (r.TotalTimeout is { } tt && tt <= TimeSpan.Zero) errors.Add($"{path}.resilience.totalTimeout: must be positive.");
                if (r.LoadBalancing is { } lb && !LoadBalancingModes.Contains(lb)) errors.Add($"{path}.resilience.loadBalancing: '{lb}' is not one of {string.Join(", ", LoadBalancingModes)}.");
            }
            ValidatePricing(model.Pricing, $"{path}.pricing", errors);
            PromptTransforms.PromptTransformsValidator.Validate(model.PromptTransforms, $"{path}.promptTransforms", errors);
            if (model.Deployments.Count == 0)
            {
                errors.Add($"{path}.deployments: at least one deployment is required.");
            }
            var totalWeight = 0;
            for (var j = 0; j < model.Deployments.Count; j++)
            {
                var deployment = model.Deployments[j];
                var dpath = $"{path}.deployments[{j}]";
                if (!options.Clusters.ContainsKey(deployment.Cluster))
                {
                    errors.Add($"{dpath}.cluster: cluster '{deployment.Cluster}' is not defined under clusters.");
                }
                if (deployment.Weight is < 0 or > 1_000_000)
                {
                    errors.Add($"{dpath}.weight: must be between 0 and 1000000.");
                }
                else
                {
                    totalWeight += deployment.Weight;
                }
                if (deployment.Model is { } upstream && (upstream.Length == 0 || upstream.Length > 256))
                {
                    errors.Add($"{dpath}.model: must be 1 to 256 characters.");
                }
                ValidateRateLimit(deployment.RateLimit, $"{dpath}.rateLimit", errors);
            }
            if (model.Deployments.Count > 0 && totalWeight == 0)
            {
                errors.Add($"{path}.deployments: at least one deployment needs a weight above 0.");
            }
        }

        // Aliases share the model namespace: each must be unique and must not shadow a model.
        var aliases = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Models.Count; i++)
        {
            for (var a = 0; a < options.Models[i].Aliases.Count; a++)
            {
                var alias = options.Models[i].Aliases[a];
                var apath = $"models[{i}].aliases[{a}]";
                if (string.IsNullOrWhiteSpace(alias) || alias.Length > 256 || alias.Any(char.IsControl)) errors.Add($"{apath}: an alias needs 1 to 256 printable characters.");
                else if (names.Contains(alias)) errors.Add($"{apath}: '{alias}' is already the name of a model.");
                else if (!aliases.Add(alias)) errors.Add($"{apath}: '{alias}' is used by more than one model.");
            }
        }

        var keyNames = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Auth.Keys.Count; i++)
        {
            var key = options.Auth.Keys[i];
            var path = $"auth.keys[{i}]";
            if (string.IsNullOrWhiteSpace(key.Name))
            {
                errors.Add($"{path}.name: every key needs a name.");
            }
            else if (!keyNames.Add(key.Name))
            {
                errors.Add($"{path}.name: '{key.Name}' is used by more than one key.");
            }
            else if (key.Name.Length > Usage.UsageRecord.NameLength)
            {
                errors.Add($"{path}.name: at most {Usage.UsageRecord.NameLength} characters (the usage ledger's caller column).");
            }
            else if (key.Name == Auth.GatewayCaller.Anonymous.Name || options.Auth.Jwt is { } jwtOptions && key.Name == jwtOptions.Name)
            {
                // Usage, metrics and budgets know a caller by name: the key would share them with those callers.
                errors.Add($"{path}.name: '{key.Name}' is the name of {(key.Name == Auth.GatewayCaller.Anonymous.Name ? "anonymous callers" : "JWT callers (auth.jwt.name)")}; pick another.");
            }
            if (!Sha256Pattern().IsMatch(key.Sha256))
            {
                errors.Add($"{path}.sha256: must be 64 hexadecimal characters (printf %s KEY | sha256sum).");
            }
            else if (!hashes.Add(key.Sha256.ToLowerInvariant()))
            {
                errors.Add($"{path}.sha256: the same key is listed more than once.");
            }
            ValidateRateLimit(key.RateLimit, $"{path}.rateLimit", errors);
            ValidateBudget(key.Budget, $"{path}.budget", errors);
            PromptTransforms.PromptTransformsValidator.Validate(key.PromptTransforms, $"{path}.promptTransforms", errors);
            for (var j = 0; j < key.Models.Count; j++)
            {
                var pattern = key.Models[j];
                if (string.IsNullOrEmpty(pattern))
                {
                    errors.Add($"{path}.models[{j}]: must not be empty.");
                }
                else if (!pattern.EndsWith('*') && !names.Contains(pattern))
                {
                    errors.Add($"{path}.models[{j}]: model '{pattern}' is not in the catalog.");
                }
            }
        }

        foreach (var (name, team) in options.Auth.Teams)
        {
            if (name.Length > Usage.UsageRecord.NameLength) errors.Add($"auth.teams.{name[..32]}…: a team name is at most {Usage.UsageRecord.NameLength} characters.");
            ValidateRateLimit(team.RateLimit, $"auth.teams.{name}.rateLimit", errors);
            ValidateBudget(team.Budget, $"auth.teams.{name}.budget", errors);
            PromptTransforms.PromptTransformsValidator.Validate(team.PromptTransforms, $"auth.teams.{name}.promptTransforms", errors);
        }
        if (options.Auth.Jwt is { } jwt) ValidateJwt(jwt, errors);

        var resilience = options.Resilience;
        if (resilience.MaxAttempts is < 1 or > 10) errors.Add("resilience.maxAttempts: must be between 1 and 10.");
        if (resilience.MaxRetryDuration <= TimeSpan.Zero) errors.Add("resilience.maxRetryDuration: must be positive.");
        if (resilience.BaseDelay < TimeSpan.Zero) errors.Add("resilience.baseDelay: must not be negative.");
        if (resilience.MaxRetryAfter < TimeSpan.Zero) errors.Add("resilience.maxRetryAfter: must not be negative.");
        if (resilience.FirstTokenTimeout is { } firstToken && firstToken <= TimeSpan.Zero) errors.Add("resilience.firstTokenTimeout: must be positive.");
        if (resilience.TotalTimeout is { } total && total <= TimeSpan.Zero) errors.Add("resilience.totalTimeout: must be positive.");
        if (!LoadBalancingModes.Contains(resilience.LoadBalancing)) errors.Add($"resilience.loadBalancing: '{resilience.LoadBalancing}' is not one of {string.Join(", ", LoadBalancingModes)}.");
        var breaker = resilience.Breaker;
        if (breaker.ConsecutiveFailures < 1) errors.Add("resilience.breaker.consecutiveFailures: must be at least 1.");
        if (breaker.FailureRatio is <= 0 or > 1) errors.Add("resilience.breaker.failureRatio: must be above 0 and at most 1.");
        if (breaker.MinimumThroughput < 1) errors.Add("resilience.breaker.minimumThroughput: must be at least 1.");
        if (breaker.SamplingDuration <= TimeSpan.Zero) errors.Add("resilience.breaker.samplingDuration: must be positive.");
        if (breaker.BreakDuration <= TimeSpan.Zero) errors.Add("resilience.breaker.breakDuration: must be positive.");

        PromptTransforms.PromptTransformsValidator.Validate(options.PromptTransforms, "promptTransforms", errors);

        if (options.Limits.MaxRequestBodyBytes is < MinBodyBytes or > MaxBodyBytes)
        {
            errors.Add($"limits.maxRequestBodyBytes: must be between {MinBodyBytes} and {MaxBodyBytes}.");
        }
        CacheOptionsValidator.Validate(options, errors);

        return errors;
    }

    private static void ValidateRateLimit(RateLimitSettings? limit, string path, List<string> errors)
    {
        if (limit is null) return;
        if (limit.RequestsPerMinute is <= 0) errors.Add($"{path}.requestsPerMinute: must be positive.");
        if (limit.TokensPerMinute is <= 0) errors.Add($"{path}.tokensPerMinute: must be positive.");
    }

    private static void ValidateBudget(BudgetSettings? budget, string path, List<string> errors)
    {
        if (budget is null) return;
        if (budget.DailyUsd is { } daily && !(daily > 0 && double.IsFinite(daily))) errors.Add($"{path}.dailyUsd: must be positive.");
        if (budget.MonthlyUsd is { } monthly && !(monthly > 0 && double.IsFinite(monthly))) errors.Add($"{path}.monthlyUsd: must be positive.");
    }

    private static void ValidatePricing(PricingOptions? pricing, string path, List<string> errors)
    {
        if (pricing is null) return;
        if (pricing.InputPerMillion is { } input && !(input >= 0 && double.IsFinite(input))) errors.Add($"{path}.inputPerMillion: must be zero or positive.");
        if (pricing.OutputPerMillion is { } output && !(output >= 0 && double.IsFinite(output))) errors.Add($"{path}.outputPerMillion: must be zero or positive.");
        if (pricing.CachedInputPerMillion is { } cached && !(cached >= 0 && double.IsFinite(cached))) errors.Add($"{path}.cachedInputPerMillion: must be zero or positive.");
    }

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,64}$")]
    private static partial Regex ClusterIdPattern();

    [GeneratedRegex("^[0-9a-fA-F]{64}$")]
    private static partial Regex Sha256Pattern();
}
