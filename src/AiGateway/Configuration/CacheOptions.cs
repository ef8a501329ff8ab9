namespace AiGateway.Configuration;

/// <summary>
/// The response cache (<c>cache</c> in <c>config/gateway.json</c>): exact-match answers for chat
/// completions, completions and embeddings. The values here are the defaults of every model; a model's
/// own <c>cache</c> overrides them. Hot-reloaded, except <see cref="MemoryCapacityBytes"/>.
/// </summary>
public sealed record CacheOptions
{
    /// <summary>Whether models cache unless they say otherwise. Default <c>false</c>: caching is opted into.</summary>
    public bool Enabled { get; init; }

    /// <summary>How long an answer is served from the cache. Default 1 h; 1 s to 30 days.</summary>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Longest TTL a request may ask for with <c>x-gateway-cache-ttl</c>. Default 24 h; 1 s to 30 days.</summary>
    public TimeSpan MaxTtl { get; init; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Who shares entries: <c>team</c> (the caller's team, or its key when it has none), <c>key</c>, or
    /// <c>shared</c> (every caller). Default <c>team</c>, so no tenant sees another's answers.
    /// </summary>
    public string Scope { get; init; } = "team";

    /// <summary>Cache only requests with <c>temperature: 0</c> or a <c>seed</c>. Default <c>true</c>.</summary>
    public bool DeterministicOnly { get; init; } = true;

    /// <summary>Largest answer stored, in bytes of its JSON. Default 1 MiB; 1 KiB to 64 MiB.</summary>
    public int MaxEntryBytes { get; init; } = 1024 * 1024;

    /// <summary>Capacity of the in-memory tier, in bytes; least recently used entries go first. Default 256 MiB; read at start-up.</summary>
    public long MemoryCapacityBytes { get; init; } = 256L * 1024 * 1024;
}

/// <summary>A model's cache settings; each absent value falls back to the top-level <c>cache</c>.</summary>
public sealed record ModelCacheOptions
{
    /// <summary>Whether this model's answers are cached.</summary>
    public bool? Enabled { get; init; }

    /// <summary>How long this model's answers are served from the cache.</summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary><c>team</c>, <c>key</c> or <c>shared</c>.</summary>
    public string? Scope { get; init; }

    /// <summary>Cache only requests with <c>temperature: 0</c> or a <c>seed</c>.</summary>
    public bool? DeterministicOnly { get; init; }
}

/// <summary>Validation of the <c>cache</c> sections, called by <see cref="GatewayOptionsValidator"/>.</summary>
internal static class CacheOptionsValidator
{
    public static readonly string[] Scopes = ["team", "key", "shared"];

    public static readonly TimeSpan MaxTtl = TimeSpan.FromDays(30);

    public const int MinEntryBytes = 1024;
    public const int MaxEntryBytes = 64 * 1024 * 1024;
    public const long MinMemoryCapacityBytes = 1024 * 1024;

    public static void Validate(GatewayOptions options, List<string> errors)
    {
        var cache = options.Cache;
        ValidateTtl(cache.Ttl, "cache.ttl", errors);
        ValidateTtl(cache.MaxTtl, "cache.maxTtl", errors);
        ValidateScope(cache.Scope, "cache.scope", errors);
        if (cache.MaxEntryBytes is < MinEntryBytes or > MaxEntryBytes)
        {
            errors.Add($"cache.maxEntryBytes: must be between {MinEntryBytes} and {MaxEntryBytes}.");
        }
        if (cache.MemoryCapacityBytes < MinMemoryCapacityBytes)
        {
            errors.Add($"cache.memoryCapacityBytes: must be at least {MinMemoryCapacityBytes}.");
        }
        else if (cache.MemoryCapacityBytes < cache.MaxEntryBytes)
        {
            errors.Add("cache.memoryCapacityBytes: must be at least cache.maxEntryBytes.");
        }

        for (var i = 0; i < options.Models.Count; i++)
        {
            if (options.Models[i].Cache is not { } model) continue;
            if (model.Ttl is { } ttl) ValidateTtl(ttl, $"models[{i}].cache.ttl", errors);
            if (model.Scope is { } scope) ValidateScope(scope, $"models[{i}].cache.scope", errors);
        }
    }

    private static void ValidateTtl(TimeSpan ttl, string path, List<string> errors)
    {
        if (ttl < TimeSpan.FromSeconds(1) || ttl > MaxTtl)
        {
            errors.Add($"{path}: must be between 00:00:01 and 30.00:00:00.");
        }
    }

    private static void ValidateScope(string scope, string path, List<string> errors)
    {
        if (!Scopes.Contains(scope, StringComparer.Ordinal))
        {
            errors.Add($"{path}: '{scope}' is not a cache scope; use one of {string.Join(", ", Scopes)}.");
        }
    }
}
