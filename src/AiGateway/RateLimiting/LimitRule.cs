namespace AiGateway.RateLimiting;

/// <summary>What a limit is counted per. Values are used as metric labels and in store keys.</summary>
internal enum LimitScopeKind
{
    /// <summary>One gateway key.</summary>
    Key,

    /// <summary>A team, shared by all of its keys.</summary>
    Team,

    /// <summary>A public model name, across all callers.</summary>
    Model,

    /// <summary>One upstream deployment, to stay under the provider's quota.</summary>
    Deployment,
}

/// <summary>The quantity a limit counts.</summary>
internal enum LimitDimension
{
    /// <summary>Requests admitted.</summary>
    Requests,

    /// <summary>Tokens reserved and then settled to actual usage.</summary>
    Tokens,
}

/// <summary>
/// One counter principal, e.g. <c>(Key, "k_7f3a")</c>. <see cref="Id"/> must be a stable identifier
/// (key id, team id, model or deployment name), never a secret: it ends up in store keys.
/// </summary>
internal sealed record LimitScope(LimitScopeKind Kind, string Id)
{
    /// <summary>Kind as a lower-case label, from a fixed set.</summary>
    public string KindName => KindLabel(Kind);

    /// <summary>A scope kind as a lower-case label.</summary>
    public static string KindLabel(LimitScopeKind kind) => kind switch
    {
        LimitScopeKind.Key => "key",
        LimitScopeKind.Team => "team",
        LimitScopeKind.Model => "model",
        LimitScopeKind.Deployment => "deployment",
        _ => "other",
    };
}

/// <summary>
/// The limits of one scope over one sliding window. A request carries one rule per applicable scope;
/// all of them must admit it. Budgets (cost per day/month) will be another dimension on the same shape.
/// </summary>
/// <param name="Scope">Who is counted.</param>
/// <param name="Requests">Requests allowed per <paramref name="Window"/>; <see langword="null"/> = unlimited.</param>
/// <param name="Tokens">Tokens allowed per <paramref name="Window"/>; <see langword="null"/> = unlimited.</param>
/// <param name="Window">Window length; one minute for RPM/TPM. Whole milliseconds.</param>
internal sealed record LimitRule(LimitScope Scope, long? Requests, long? Tokens, TimeSpan Window)
{
    /// <summary>The RPM/TPM window.</summary>
    public static readonly TimeSpan OneMinute = TimeSpan.FromMinutes(1);

    /// <summary>A rule with requests-per-minute and tokens-per-minute limits.</summary>
    public static LimitRule PerMinute(LimitScopeKind kind, string id, long? requestsPerMinute, long? tokensPerMinute) =>
        new(new LimitScope(kind, id), requestsPerMinute, tokensPerMinute, OneMinute);

    internal long WindowMs => (long)Window.TotalMilliseconds;

    /// <summary>
    /// Identity of the counter this rule uses: one per scope and window length. Made once per rule (rules live in
    /// the config snapshot), not per request. It depends on <see cref="Scope"/> and <see cref="Window"/> only, so a
    /// copy <c>with</c> other limits keeps the right key; a copy with another scope or window must be constructed.
    /// </summary>
    internal string CounterKey { get; } = string.Concat(Scope.KindName, ":", Scope.Id, ":", ((long)Window.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
}
