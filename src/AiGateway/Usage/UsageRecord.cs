namespace AiGateway.Usage;

/// <summary>
/// One row of the usage ledger: a model request, who made it, what it used and cost. Written after the
/// answer is complete, off the request path (<see cref="UsageLedger"/>). No prompt text, no credential.
/// </summary>
internal sealed class UsageRecord
{
    // Column widths (PostgreSQL enforces them; SQLite does not): values are cut to fit when a record is made.
    public const int RequestIdLength = 128;
    public const int NameLength = 256;
    public const int DeploymentLength = 512;
    public const int OperationLength = 32;
    public const int ErrorTypeLength = 128;
    public const int LabelLength = 16;

    public long Id { get; set; }

    /// <summary>When the request completed, UTC.</summary>
    public DateTime TimestampUtc { get; set; }

    /// <summary>The <c>x-request-id</c> returned to the client.</summary>
    public string RequestId { get; set; } = "";

    /// <summary>The key's name (or the JWT callers' configured name); never the credential.</summary>
    public string Caller { get; set; } = "";

    public string? Team { get; set; }

    /// <summary>The public model name the client asked for (after aliases).</summary>
    public string Model { get; set; } = "";

    /// <summary>The deployment that answered, <c>cluster/upstream-model</c>; null when none was tried.</summary>
    public string? Deployment { get; set; }

    /// <summary><c>chat</c>, <c>text_completion</c>, <c>embeddings</c>, <c>messages</c>, …</summary>
    public string Operation { get; set; } = "";

    public bool Stream { get; set; }

    /// <summary>The HTTP status the client got.</summary>
    public int Status { get; set; }

    /// <summary>Why it failed (the metrics' <c>error.type</c>); null on success.</summary>
    public string? ErrorType { get; set; }

    public int PromptTokens { get; set; }

    public int CompletionTokens { get; set; }

    /// <summary>Prompt tokens the provider (or the gateway's cache) served from cache; part of <see cref="PromptTokens"/>.</summary>
    public int CachedTokens { get; set; }

    /// <summary><c>reported</c> by the provider, <c>counted</c> by the gateway (stream cut short), <c>cache</c>, or <c>none</c>.</summary>
    public string UsageSource { get; set; } = "";

    /// <summary>US dollars at the catalog's prices; 0 for cache hits and for models without prices.</summary>
    public double CostUsd { get; set; }

    /// <summary>The response cache's result: <c>hit</c>, <c>miss</c>, <c>bypass</c>, … or <c>none</c>.</summary>
    public string Cache { get; set; } = "";

    public double DurationMs { get; set; }

    /// <summary>Upstream attempts made (0 for a cache hit or the mock).</summary>
    public int Attempts { get; set; }

    /// <summary><paramref name="value"/> cut to <paramref name="length"/> characters.</summary>
    public static string Fit(string value, int length) => value.Length <= length ? value : value[..length];

    /// <inheritdoc cref="Fit(string, int)"/>
    public static string? FitOrNull(string? value, int length) => value is null ? null : Fit(value, length);
}
