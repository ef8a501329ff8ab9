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

    /// <summary>Retries, fallbacks, circuit breaking and timeouts: the defaults every model inherits.</summary>
    public ResilienceOptions Resilience { get; init; } = new();

    /// <summary>The response cache: defaults for every model, and its storage limits.</summary>
    public CacheOptions Cache { get; init; } = new();

    /// <summary>Prompt transforms and guardrails for every request; models, teams and keys add their own. Optional.</summary>
    public PromptTransforms.PromptTransformOptions? PromptTransforms { get; init; }
}

/// <summary>How the gateway absorbs upstream failures. Models may override the marked settings.</summary>
public sealed record ResilienceOptions
{
    /// <summary>Attempts per request across deployments and fallbacks, the first included. Default 3.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>No new attempt starts once this much time has passed since the request arrived. Default 30 s.</summary>
    public TimeSpan MaxRetryDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Base of the exponential backoff (with jitter) before retrying the same deployment. Default 200 ms.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Longest <c>retry-after</c> the gateway waits out before retrying the same deployment. A provider asking
    /// for longer gets its 429 passed to the client, with the provider's <c>retry-after</c>. Default 5 s.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Deadline for the first byte of the answer, stream or not; on expiry the next deployment is tried. Default none.</summary>
    public TimeSpan? FirstTokenTimeout { get; init; }

    /// <summary>Deadline for the whole request, streaming included. Default none.</summary>
    public TimeSpan? TotalTimeout { get; init; }

    /// <summary><c>weighted</c> (default), <c>least-busy</c> (fewest requests in flight) or <c>lowest-latency</c> (moving average of time to first token).</summary>
    public string LoadBalancing { get; init; } = "weighted";

    /// <summary>Per-deployment circuit breaker.</summary>
    public BreakerOptions Breaker { get; init; } = new();
}

/// <summary>When a deployment is taken out of rotation, and for how long.</summary>
public sealed record BreakerOptions
{
    /// <summary>Consecutive failures that open the breaker. Default 5.</summary>
    public int ConsecutiveFailures { get; init; } = 5;

    /// <summary>Failure ratio over <see cref="SamplingDuration"/> that opens the breaker. Default 0.5.</summary>
    public double FailureRatio { get; init; } = 0.5;

    /// <summary>Requests needed in the sampling window before the ratio counts. Default 10.</summary>
    public int MinimumThroughput { get; init; } = 10;

    /// <summary>Window over which the failure ratio is measured. Default 30 s.</summary>
    public TimeSpan SamplingDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open breaker stays open before a half-open probe; a 429's Retry-After overrides it. Default 30 s.</summary>
    public TimeSpan BreakDuration { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>Per-model overrides of <see cref="ResilienceOptions"/>.</summary>
public sealed record ModelResilienceOptions
{
    /// <summary>Overrides <see cref="ResilienceOptions.MaxAttempts"/>.</summary>
    public int? MaxAttempts { get; init; }

    /// <summary>Overrides <see cref="ResilienceOptions.FirstTokenTimeout"/>.</summary>
    public TimeSpan? FirstTokenTimeout { get; init; }

    /// <summary>Overrides <see cref="ResilienceOptions.TotalTimeout"/>.</summary>
    public TimeSpan? TotalTimeout { get; init; }

    /// <summary>Overrides <see cref="ResilienceOptions.LoadBalancing"/>.</summary>
    public string? LoadBalancing { get; init; }
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

    /// <summary>Accept JWTs from an OIDC issuer as well as gateway keys. Optional.</summary>
    public JwtOptions? Jwt { get; init; }
}

/// <summary>
/// JWT bearer tokens (<c>Authorization: Bearer JWT</c>) from one OIDC issuer. Signing keys come from exactly
/// one of <see cref="Authority"/>, <see cref="JwksUri"/>, <see cref="SigningKeys"/> or <see cref="SigningKeysFile"/>.
/// </summary>
public sealed record JwtOptions
{
    /// <summary>The caller name used in metrics and for limits of all JWT callers. Default <c>jwt</c>.</summary>
    public string Name { get; init; } = "jwt";

    /// <summary>The exact <c>iss</c> value tokens must carry. Required.</summary>
    public string Issuer { get; init; } = "";

    /// <summary>Accepted <c>aud</c> values; a token must carry at least one. Required.</summary>
    public List<string> Audiences { get; init; } = [];

    /// <summary>OIDC authority; keys come from <c>{authority}/.well-known/openid-configuration</c>, cached and refreshed.</summary>
    public string? Authority { get; init; }

    /// <summary>A JWKS URL, cached and refreshed.</summary>
    public string? JwksUri { get; init; }

    /// <summary>An inline JWKS (<c>{"keys":[…]}</c>), for offline use and tests.</summary>
    public JwksOptions? SigningKeys { get; init; }

    /// <summary>Path of a JWKS file, read at every (re)load.</summary>
    public string? SigningKeysFile { get; init; }

    /// <summary>Tolerance on <c>exp</c> and <c>nbf</c>. Default 2 minutes.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Claim naming the caller in logs (never in metrics). Default <c>sub</c>.</summary>
    public string NameClaim { get; init; } = "sub";

    /// <summary>Claim naming the caller's team; only teams in <c>auth.teams</c> count. Optional.</summary>
    public string? TeamClaim { get; init; }

    /// <summary>Claim (space-separated string or array) restricting the models; absent claim: all models. Optional.</summary>
    public string? ModelsClaim { get; init; }

    /// <summary>Scopes that must all appear in <c>scope</c> or <c>scp</c>. Optional.</summary>
    public List<string> RequiredScopes { get; init; } = [];
}

/// <summary>A JSON Web Key Set.</summary>
public sealed record JwksOptions
{
    /// <summary>The keys, each a JWK (<c>kty</c>, <c>kid</c>, <c>n</c>/<c>e</c>, <c>crv</c>/<c>x</c>/<c>y</c>, or <c>k</c>).</summary>
    public List<Dictionary<string, string>> Keys { get; init; } = [];
}

/// <summary>A team: a group of keys sharing limits.</summary>
public sealed record TeamOptions
{
    /// <summary>Limits across all of the team's keys. Optional.</summary>
    public RateLimitSettings? RateLimit { get; init; }

    /// <summary>Prompt transforms and guardrails for the team's keys, applied after the model's. Optional.</summary>
    public PromptTransforms.PromptTransformOptions? PromptTransforms { get; init; }

    /// <summary>Spend allowed across all of the team's keys (and JWT callers of the team). Optional.</summary>
    public BudgetSettings? Budget { get; init; }
}

/// <summary>
/// Spend in US dollars, at the catalog's prices, per UTC day and per UTC calendar month, read from the usage
/// ledger. Once spent reaches a budget, requests get 429 <c>insufficient_quota</c> until the period ends.
/// </summary>
public sealed record BudgetSettings
{
    /// <summary>Dollars per UTC day. Optional.</summary>
    public double? DailyUsd { get; init; }

    /// <summary>Dollars per UTC calendar month. Optional.</summary>
    public double? MonthlyUsd { get; init; }
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

    /// <summary>Spend allowed to this key. Optional.</summary>
    public BudgetSettings? Budget { get; init; }

    /// <summary>Prompt transforms and guardrails for this key, applied last. Optional.</summary>
    public PromptTransforms.PromptTransformOptions? PromptTransforms { get; init; }
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

    /// <summary>TCP/TLS connect timeout. Default 10 s.</summary>
    public TimeSpan? ConnectTimeout { get; init; }

    /// <summary>YARP active health checks of the destinations (optional): GET <c>path</c> every <c>interval</c>.</summary>
    public ActiveHealthCheckOptions? ActiveHealthCheck { get; init; }

    /// <summary>Settings of the built-in mock provider.</summary>
    public MockOptions Mock { get; init; } = new();
}

/// <summary>Active health probing of a cluster's destinations.</summary>
public sealed record ActiveHealthCheckOptions
{
    /// <summary>Probe path below the destination address, e.g. <c>/models</c>. Default <c>/models</c>.</summary>
    public string Path { get; init; } = "/models";

    /// <summary>Time between probes. Default 15 s.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Probe timeout. Default 5 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
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

    /// <summary>Models tried in order when every deployment of this one failed or is open; also used when the prompt is too long for this model's context window.</summary>
    public List<string> Fallbacks { get; init; } = [];

    /// <summary>Overrides of the global resilience settings.</summary>
    public ModelResilienceOptions? Resilience { get; init; }

    /// <summary>Response-cache settings of this model, over the top-level <c>cache</c>. Optional.</summary>
    public ModelCacheOptions? Cache { get; init; }
    /// <summary>Prices for the <c>aigateway.cost.usd</c> metric. Optional: without them no cost is reported.</summary>
    public PricingOptions? Pricing { get; init; }

    /// <summary>Other names clients may send for this model (e.g. <c>fast</c>); hot-reloaded with the catalog. Default none.</summary>
    public List<string> Aliases { get; init; } = [];

    /// <summary>Prompt transforms and guardrails for this model, applied after the global ones. Optional.</summary>
    public PromptTransforms.PromptTransformOptions? PromptTransforms { get; init; }
}

/// <summary>A model's list prices in US dollars per million tokens.</summary>
public sealed record PricingOptions
{
    /// <summary>Price of a million prompt tokens. Default 0.</summary>
    public double? InputPerMillion { get; init; }

    /// <summary>Price of a million completion tokens. Default 0.</summary>
    public double? OutputPerMillion { get; init; }

    /// <summary>Price of a million prompt tokens served from the provider's prompt cache. Default: <see cref="InputPerMillion"/>.</summary>
    public double? CachedInputPerMillion { get; init; }
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

    /// <summary>Priority tier: traffic goes to the lowest tier that has a deployment available. Default 0.</summary>
    public int Priority { get; init; }
}

/// <summary>Request limits.</summary>
public sealed record LimitsOptions
{
    /// <summary>Largest request body accepted, in bytes. Default 10 MB.</summary>
    public long MaxRequestBodyBytes { get; init; } = 10 * 1024 * 1024;
}
