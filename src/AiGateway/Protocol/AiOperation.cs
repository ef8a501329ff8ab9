namespace AiGateway.Protocol;

/// <summary>The operations the gateway routes by model.</summary>
internal enum AiOperation
{
    ChatCompletions,
    Completions,
    Embeddings,

    /// <summary>Anthropic <c>POST /v1/messages</c>: passed through to Anthropic, translated to chat completions elsewhere.</summary>
    Messages,

    /// <summary>Anthropic <c>POST /v1/messages/count_tokens</c>.</summary>
    CountTokens,
}

internal static class AiOperations
{
    /// <summary>Path below the provider's <c>/v1</c> base, e.g. <c>/chat/completions</c>.</summary>
    public static string UpstreamPath(this AiOperation operation) => operation switch
    {
        AiOperation.ChatCompletions => "/chat/completions",
        AiOperation.Completions => "/completions",
        AiOperation.Embeddings => "/embeddings",
        // An OpenAI-compatible deployment answers the Anthropic surface through chat completions.
        AiOperation.Messages => "/chat/completions",
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };

    /// <summary>The <c>gen_ai.operation.name</c> value of the OpenTelemetry GenAI conventions.</summary>
    public static string Name(this AiOperation operation) => operation switch
    {
        AiOperation.ChatCompletions or AiOperation.Messages => "chat",
        AiOperation.Completions => "text_completion",
        AiOperation.Embeddings => "embeddings",
        AiOperation.CountTokens => "count_tokens",
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };
}
