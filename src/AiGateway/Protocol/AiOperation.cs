namespace AiGateway.Protocol;

/// <summary>The OpenAI operations the gateway routes by model.</summary>
internal enum AiOperation
{
    ChatCompletions,
    Completions,
    Embeddings,
}

internal static class AiOperations
{
    /// <summary>Path below the provider's <c>/v1</c> base, e.g. <c>/chat/completions</c>.</summary>
    public static string UpstreamPath(this AiOperation operation) => operation switch
    {
        AiOperation.ChatCompletions => "/chat/completions",
        AiOperation.Completions => "/completions",
        AiOperation.Embeddings => "/embeddings",
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };

    /// <summary>The <c>gen_ai.operation.name</c> value of the OpenTelemetry GenAI conventions.</summary>
    public static string Name(this AiOperation operation) => operation switch
    {
        AiOperation.ChatCompletions => "chat",
        AiOperation.Completions => "text_completion",
        AiOperation.Embeddings => "embeddings",
        _ => throw new ArgumentOutOfRangeException(nameof(operation)),
    };
}
