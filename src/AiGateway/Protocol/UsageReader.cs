using System.Text;
using System.Text.Json;

namespace AiGateway.Protocol;

/// <summary>What one OpenAI stream chunk carried, read in a single forward pass.</summary>
internal ref struct ChunkInfo
{
    /// <summary>The chunk's <c>usage</c> object, when present and not null.</summary>
    public TokenUsage? Usage;

    /// <summary>A usage-only chunk: <c>usage</c> set and <c>choices</c> empty (the one <c>include_usage</c> adds).</summary>
    public bool IsUsageOnly;
}

/// <summary>Reads OpenAI <c>usage</c> objects from stream chunks and collects the streamed text for counting.</summary>
internal static class UsageReader
{
    /// <summary>Upper bound of streamed text kept for counting when a stream ends without usage.</summary>
    public const int MaxCollectedChars = 1 << 20;

    /// <summary>
    /// Inspects one chunk's JSON. Text from <c>choices[].delta.content</c> (chat) or <c>choices[].text</c>
    /// (completions) is appended to <paramref name="text"/>. Malformed JSON is not the gateway's to
    /// judge here: it is relayed as is and yields nothing.
    /// </summary>
    public static ChunkInfo InspectChunk(ReadOnlySpan<byte> json, StringBuilder? text)
    {
        var info = new ChunkInfo();
        var choices = -1;
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return info;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("usage"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject) info.Usage = ReadUsageObject(ref reader);
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("choices"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartArray) choices = ReadChoices(ref reader, text);
                    else reader.Skip();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return new ChunkInfo();
        }
        catch (InvalidOperationException)
        {
            return new ChunkInfo();
        }
        info.IsUsageOnly = info.Usage is not null && choices == 0;
        return info;
    }

    /// <summary>Reads a <c>usage</c> object; the reader is on its <c>StartObject</c> and ends on its <c>EndObject</c>.</summary>
    public static TokenUsage ReadUsageObject(ref Utf8JsonReader reader)
    {
        int prompt = 0, completion = 0, cached = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_tokens"u8)) prompt = ReadCount(ref reader);
            else if (reader.ValueTextEquals("completion_tokens"u8)) completion = ReadCount(ref reader);
            else if (reader.ValueTextEquals("prompt_tokens_details"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    continue;
                }
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("cached_tokens"u8)) cached = ReadCount(ref reader);
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return new TokenUsage(prompt, completion, Math.Min(cached, prompt), UsageSource.Reported);
    }

    private static int ReadCount(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value) && value >= 0 ? value : 0;
    }

    private static int ReadChoices(ref Utf8JsonReader reader, StringBuilder? text)
    {
        var count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            count++;
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("delta"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        reader.Skip();
                        continue;
                    }
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isText = reader.ValueTextEquals("content"u8) || reader.ValueTextEquals("refusal"u8) || reader.ValueTextEquals("reasoning_content"u8);
                        reader.Read();
                        if (isText && reader.TokenType == JsonTokenType.String) Append(ref reader, text);
                        else if (reader.TokenType == JsonTokenType.StartArray && text is not null) CollectToolArguments(ref reader, text);
                        else reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("text"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String) Append(ref reader, text);
                    else reader.Skip();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        return count;
    }

    // Streamed tool-call arguments are generated tokens too.
    private static void CollectToolArguments(ref Utf8JsonReader reader, StringBuilder text)
    {
        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType == JsonTokenType.PropertyName && (reader.ValueTextEquals("arguments"u8) || reader.ValueTextEquals("name"u8)))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) Append(ref reader, text);
            }
        }
    }

    private static void Append(ref Utf8JsonReader reader, StringBuilder? text)
    {
        if (text is null || text.Length >= MaxCollectedChars) return;
        text.Append(reader.GetString());
    }
}
