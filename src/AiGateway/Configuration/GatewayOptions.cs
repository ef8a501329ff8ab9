namespace AiGateway.Configuration;

/// <summary>
/// The gateway's configuration as written in <c>config/gateway.json</c> (section <c>AiGateway</c>).
/// Bound on start-up and on every reload, validated by <see cref="GatewayOptionsValidator"/>, then
/// compiled into an immutable <see cref="GatewayConfig"/>.
/// </summary>
public sealed record GatewayOptions
{
    /// <summary>Who may call the gateway.</summary>
    public AuthOptions Auth { get; init; } = new();

    /// <summary>Upstream endpoint families by id (one YARP cluster each, or the built-in <c>mock</c>).</summary>
    public Dictionary<string, ClusterOptions> Clusters { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The public model catalog.</summary>
    public List<ModelOptions> Models { get; init; } = [];

    /// <summary>Request limits.</summary>
    public LimitsOptions Limits { get; init; } = new();

    /// <summary>The response cache: defaults for every model, and its storage limits.</summary>
    public CacheOptions Cache { get; init; } = new();
}

/// <summary>Caller authentication.</summary>
public sealed record AuthOptions
{
    /// <summary>Serve callers that send no credential, with access to every model. Default <c>false</c>.</summary>
    public bool AllowAnonymous { get; init; }

    /// <summary>Gateway keys, stored only as SHA-256 hashes.</summary>
    public List<KeyOptions> Keys { get; init; } = [];

    /// <summary>Teams by name, with limits shared by all of a team's keys.</summary>
    public Dictionary<string, TeamOptions> Teams { get; init; } = new(StringComparer.Ordinal);
}

/// <summary>A team: a group of keys sharing limits.</summary>
public sealed record TeamOptions
{
    /// <summary>Limits across all of the team's keys. Optional.</summary>
    public RateLimitSettings? RateLimit { get; init; }
}

/// <summary>
/// Requests and tokens per minute for one scope (a key, a team, a model or a deployment). Tokens are
/// prompt plus completion; a request reserves its prompt and its <c>max_tokens</c> up front and settles
/// with the real usage afterwards. Absent values mean no limit. Enforced across replicas when Redis is configured.
/// </summary>
public sealed record RateLimitSettings
{
    /// <summary>Requests per minute. Optional.</summary>
    public long? RequestsPerMinute { get; init; }

    /// <summary>Tokens per minute. Optional.</summary>
    public long? TokensPerMinute { get; init; }
}

/// <summary>One gateway key.</summary>
public sealed record KeyOptions
{
    /// <summary>Display name used in logs and metrics; never the key itself.</summary>
    public string Name { get; init; } = "";

    /// <summary>Lowercase hex SHA-256 of the full key string (<c>printf %s KEY | sha256sum</c>).</summary>
    public string Sha256 { get; init; } = "";

    /// <summary>Team the key belongs to, for limits and reporting. Optional.</summary>
    public string? Team { get; init; }

    /// <summary>Models this key may use: exact names, prefixes ending in <c>*</c>, or <c>*</c> for all. Default all.</summary>
    public List<string> Models { get; init; } = [];

    /// <summary>Limits of this key. Optional.</summary>
    public RateLimitSettings? RateLimit { get; init; }
}

/// <summary>One upstream endpoint family.</summary>
public sealed record ClusterOptions
{
    /// <summary><c>openai</c> (any OpenAI-compatible <c>/v1</c> server), <c>azure</c>, <c>anthropic</c>, or <c>mock</c>.</summary>
    public string Provider { get; init; } = "";

    /// <summary>Credential reference: <c>env:NAME</c> or <c>file:/path</c>. Literal keys are rejected. Optional for servers that need none.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Azure OpenAI <c>api-version</c> query value. Default <c>2024-10-21</c>.</summary>
    public string? ApiVersion { get; init; }

    /// <summary>Anthropic <c>anthropic-version</c> header value. Default <c>2023-06-01</c>.</summary>
    public string? AnthropicVersion { get; init; }

    /// <summary>Upstream base URLs, e.g. <c>https://api.openai.com/v1</c>, <c>https://NAME.openai.azure.com</c> or <c>https://api.anthropic.com/v1</c>.</summary>
    public Dictionary<string, DestinationOptions> Destinations { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Longest silence allowed while waiting for or reading the upstream response. Default 100 s.</summary>
    public TimeSpan? ActivityTimeout { get; init; }

    /// <summary>Settings of the built-in mock provider.</summary>
    public MockOptions Mock { get; init; } = new();
}

/// <summary>One upstream address.</summary>
public sealed record DestinationOptions
{
    /// <summary>Absolute http(s) base URL.</summary>
    public string Address { get; init; } = "";
}

/// <summary>The built-in echo provider used for demos, tests and gateway-only benchmarks.</summary>
public sealed record MockOptions
{
    /// <summary>Delay before the first streamed chunk, in milliseconds. Default 0.</summary>
    public int FirstTokenDelayMs { get; init; }

    /// <summary>Delay between streamed chunks, in milliseconds. Default 0.</summary>
    public int TokenDelayMs { get; init; }

    /// <summary>Length of the vectors the mock returns for embeddings when the request sets no <c>dimensions</c>. Default 256.</summary>
    public int EmbeddingDimensions { get; init; } = 256;
}

/// <summary>A public model and the deployments that serve it.</summary>
public sealed record ModelOptions
{
    /// <summary>The name clients send as <c>model</c>. Case-sensitive.</summary>
    public string Name { get; init; } = "";

    /// <summary>Deployments serving this model, chosen by weight.</summary>
    public List<DeploymentOptions> Deployments { get; init; } = [];

    /// <summary>Context window in tokens. Optional.</summary>
    public int? ContextWindow { get; init; }

    /// <summary>Default and cap for output tokens. Optional.</summary>
    public int? MaxOutputTokens { get; init; }

    /// <summary>The <c>owned_by</c> value in <c>/v1/models</c>. Default: the first deployment's provider.</summary>
    public string? OwnedBy { get; init; }

    /// <summary>Completion tokens reserved when a request sets no <c>max_tokens</c>. Default: <see cref="MaxOutputTokens"/>, else what the context window leaves, else 1024.</summary>
    public int? DefaultMaxTokens { get; init; }

    /// <summary>Tokenizer for counting: <c>o200k_base</c> or <c>cl100k_base</c>. Default: chosen from the upstream model name.</summary>
    public string? Encoding { get; init; }

    /// <summary>Limits across all callers of this model. Optional.</summary>
    public RateLimitSettings? RateLimit { get; init; }

    /// <summary>Response-cache settings of this model, over the top-level <c>cache</c>. Optional.</summary>
    public ModelCacheOptions? Cache { get; init; }
}

/// <summary>One deployment of a model on a cluster.</summary>
public sealed record DeploymentOptions
{
    /// <summary>The cluster id.</summary>
    public string Cluster { get; init; } = "";

    /// <summary>The upstream model name (Azure: the deployment name). Default: the public model name.</summary>
    public string? Model { get; init; }

    /// <summary>Relative share of traffic. Default 1; 0 takes the deployment out of rotation.</summary>
    public int Weight { get; init; } = 1;

    /// <summary>Public name reported in headers and metrics. Default <c>cluster/model</c>.</summary>
    public string? Name { get; init; }

    /// <summary>Limits of this deployment, to stay under the provider's quota. Optional.</summary>
    public RateLimitSettings? RateLimit { get; init; }
}

/// <summary>Request limits.</summary>
public sealed record LimitsOptions
{
    /// <summary>Largest request body accepted, in bytes. Default 10 MB.</summary>
    public long MaxRequestBodyBytes { get; init; } = 10 * 1024 * 1024;
}
