namespace AiGateway.Protocol;

/// <summary>How a request's usage was learned.</summary>
internal enum UsageSource
{
    /// <summary>The upstream reported it (JSON <c>usage</c>, or the stream's usage chunk).</summary>
    Reported,

    /// <summary>The stream ended without usage (client abort, upstream break); the gateway counted it.</summary>
    Counted,

    /// <summary>Served from the gateway's response cache: no provider tokens were spent, so it costs nothing.</summary>
    Cache,
}

/// <summary>Token usage of one request in OpenAI's terms: <see cref="PromptTokens"/> includes <see cref="CachedTokens"/>.</summary>
internal readonly record struct TokenUsage(int PromptTokens, int CompletionTokens, int CachedTokens, UsageSource Source)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}
