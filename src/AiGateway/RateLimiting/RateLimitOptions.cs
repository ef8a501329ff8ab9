using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AiGateway.RateLimiting;

/// <summary>Where rate-limit counters live.</summary>
internal enum RateLimitStoreKind
{
    /// <summary>Redis when <c>ConnectionStrings:Redis</c> is set, otherwise in-memory.</summary>
    Auto,

    /// <summary>This process only: exact for a single replica, N × replicas across many.</summary>
    InMemory,

    /// <summary>Redis at <c>ConnectionStrings:Redis</c>; required to be set.</summary>
    Redis,
}

/// <summary>What admission does while the shared store is unreachable.</summary>
internal enum RateLimitFailureMode
{
    /// <summary>Admit without counting; a metric counts it and a warning is logged at most once per <see cref="RateLimitOptions.OutageLogInterval"/>.</summary>
    FailOpen,

    /// <summary>Refuse with <see cref="RateLimitOutcome.StoreUnavailable"/> (HTTP 503).</summary>
    FailClosed,
}

/// <summary>Rate limiting settings, section <c>RateLimiting</c>. The limits themselves come from the catalog.</summary>
internal sealed record RateLimitOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "RateLimiting";

    /// <summary>Name of the connection string that selects Redis.</summary>
    public const string RedisConnectionStringName = "Redis";

    /// <summary>Store selection. Default <see cref="RateLimitStoreKind.Auto"/>. Read once at start-up.</summary>
    public RateLimitStoreKind Store { get; init; } = RateLimitStoreKind.Auto;

    /// <summary>Behaviour during a Redis outage. Default <see cref="RateLimitFailureMode.FailOpen"/>.</summary>
    public RateLimitFailureMode FailureMode { get; init; } = RateLimitFailureMode.FailOpen;

    /// <summary>
    /// Longest a single Redis command may take before the store counts as unavailable (Redis sync and async
    /// timeouts, and the wait for the first connection). Default 250 ms; 10 ms to 10 s.
    /// </summary>
    public TimeSpan RedisOperationTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Timeout of one Redis connect attempt; reconnects continue in the background. Default 2 s; 100 ms to 30 s.</summary>
    public TimeSpan RedisConnectTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Prefix of every Redis key (<c>{prefix}:{rl:kind:id}:{windowMs}</c>). Default <c>aigw</c>; no braces.</summary>
    public string RedisKeyPrefix { get; init; } = "aigw";

    /// <summary>Shortest time between two outage warnings in the log. Default 30 s; at least 1 s.</summary>
    public TimeSpan OutageLogInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the in-memory store drops idle counters. Default 1 min; 1 s to 1 h.</summary>
    public TimeSpan InMemorySweepInterval { get; init; } = TimeSpan.FromMinutes(1);
}

/// <summary>Validates <see cref="RateLimitOptions"/> at start-up, listing every problem.</summary>
internal sealed class RateLimitOptionsValidator(IConfiguration configuration) : IValidateOptions<RateLimitOptions>
{
    public ValidateOptionsResult Validate(string? name, RateLimitOptions options)
    {
        var errors = new List<string>();
        if (!Enum.IsDefined(options.Store))
        {
            errors.Add($"{RateLimitOptions.SectionName}:Store must be Auto, InMemory or Redis.");
        }

        if (!Enum.IsDefined(options.FailureMode))
        {
            errors.Add($"{RateLimitOptions.SectionName}:FailureMode must be FailOpen or FailClosed.");
        }

        if (options.Store == RateLimitStoreKind.Redis
            && string.IsNullOrWhiteSpace(configuration.GetConnectionString(RateLimitOptions.RedisConnectionStringName)))
        {
            errors.Add($"{RateLimitOptions.SectionName}:Store is Redis but ConnectionStrings:{RateLimitOptions.RedisConnectionStringName} is not set.");
        }

        Range(errors, nameof(options.RedisOperationTimeout), options.RedisOperationTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(10));
        Range(errors, nameof(options.RedisConnectTimeout), options.RedisConnectTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30));
        Range(errors, nameof(options.OutageLogInterval), options.OutageLogInterval, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        Range(errors, nameof(options.InMemorySweepInterval), options.InMemorySweepInterval, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));

        if (string.IsNullOrWhiteSpace(options.RedisKeyPrefix) || options.RedisKeyPrefix.AsSpan().IndexOfAny('{', '}') >= 0)
        {
            errors.Add($"{RateLimitOptions.SectionName}:RedisKeyPrefix must be non-empty and contain no '{{' or '}}'.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Range(List<string> errors, string name, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            errors.Add($"{RateLimitOptions.SectionName}:{name} must be between {min} and {max} (was {value}).");
        }
    }
}
