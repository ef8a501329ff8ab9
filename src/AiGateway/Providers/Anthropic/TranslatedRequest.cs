namespace AiGateway.Providers.Anthropic;

/// <summary>What the response side needs to know about a translated request.</summary>
/// <param name="Stream">The client asked for a streamed response.</param>
/// <param name="IncludeUsage">The client asked for a final usage chunk (OpenAI <c>stream_options.include_usage</c>).</param>
internal readonly record struct TranslatedRequest(bool Stream, bool IncludeUsage);
