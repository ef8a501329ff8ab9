using System.Text.Json;

namespace AiGateway.Providers.Anthropic;

/// <summary>
/// Token usage in Anthropic's terms, whichever side it came from: <see cref="InputTokens"/> excludes
/// prompt tokens read from or written to the prompt cache.
/// </summary>
/// <param name="InputTokens">Uncached prompt tokens (Anthropic <c>input_tokens</c>).</param>
/// <param name="OutputTokens">Generated tokens.</param>
/// <param name="CacheReadInputTokens">Prompt tokens served from the cache.</param>
/// <param name="CacheCreationInputTokens">Prompt tokens written to the cache.</param>
internal readonly record struct TranslatedUsage(int InputTokens, int OutputTokens, int CacheReadInputTokens, int CacheCreationInputTokens)
{
    /// <summary>Every prompt token, cached or not: OpenAI's <c>prompt_tokens</c>, and what limits and budgets count.</summary>
    public int PromptTokens => InputTokens + CacheReadInputTokens + CacheCreationInputTokens;

    public int TotalTokens => PromptTokens + OutputTokens;

    /// <summary>The gateway's accounting form: OpenAI's terms, cache writes counted as prompt tokens.</summary>
    public Protocol.TokenUsage ToTokenUsage() =>
        new(PromptTokens, OutputTokens, CacheReadInputTokens, Protocol.UsageSource.Reported);

    /// <summary>
    /// Reads an Anthropic <c>usage</c> object. Fields that are absent or null keep the value from
    /// <paramref name="previous"/>, because <c>message_delta</c> repeats only what it knows.
    /// </summary>
    public static TranslatedUsage FromAnthropic(JsonElement usage, TranslatedUsage previous = default)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return previous;
        }

        return new TranslatedUsage(
            ReadInt(usage, "input_tokens", previous.InputTokens),
            ReadInt(usage, "output_tokens", previous.OutputTokens),
            ReadInt(usage, "cache_read_input_tokens", previous.CacheReadInputTokens),
            ReadInt(usage, "cache_creation_input_tokens", previous.CacheCreationInputTokens));
    }

    /// <summary>Reads an OpenAI <c>usage</c> object; cached tokens are carved out of <c>prompt_tokens</c>.</summary>
    public static TranslatedUsage FromOpenAI(JsonElement usage)
    {
        if (usage.ValueKind != JsonValueKind.Object)
        {
            return default;
        }

        var prompt = ReadInt(usage, "prompt_tokens", 0);
        var cached = usage.TryGetValue("prompt_tokens_details", out var details) && details.ValueKind == JsonValueKind.Object
            ? Math.Min(ReadInt(details, "cached_tokens", 0), prompt)
            : 0;
        return new TranslatedUsage(prompt - cached, ReadInt(usage, "completion_tokens", 0), cached, 0);
    }

    /// <summary>Writes an OpenAI <c>usage</c> object value.</summary>
    public void WriteOpenAI(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteNumber("prompt_tokens"u8, PromptTokens);
        writer.WriteNumber("completion_tokens"u8, OutputTokens);
        writer.WriteNumber("total_tokens"u8, TotalTokens);
        writer.WriteStartObject("prompt_tokens_details"u8);
        writer.WriteNumber("cached_tokens"u8, CacheReadInputTokens);
        // Not an OpenAI field; clients ignore it, and cache writes are billed differently so callers want it.
        writer.WriteNumber("cache_creation_tokens"u8, CacheCreationInputTokens);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Writes an Anthropic <c>usage</c> object value.</summary>
    public void WriteAnthropic(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteNumber("input_tokens"u8, InputTokens);
        writer.WriteNumber("cache_creation_input_tokens"u8, CacheCreationInputTokens);
        writer.WriteNumber("cache_read_input_tokens"u8, CacheReadInputTokens);
        writer.WriteNumber("output_tokens"u8, OutputTokens);
        writer.WriteEndObject();
    }

    private static int ReadInt(JsonElement element, string name, int fallback) =>
        element.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= 0
            ? number
            : fallback;
}
