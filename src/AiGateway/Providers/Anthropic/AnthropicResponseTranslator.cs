using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

namespace AiGateway.Providers.Anthropic;

/// <summary>Translates a non-streamed Anthropic message into an OpenAI <c>chat.completion</c>.</summary>
internal static class AnthropicResponseTranslator
{
    /// <summary>Translates <paramref name="anthropicResponse"/> into <paramref name="destination"/>.</summary>
    /// <param name="anthropicResponse">The upstream 200 body.</param>
    /// <param name="publicModel">The model name the client asked for, echoed back instead of the upstream id.</param>
    /// <param name="created">Unix seconds from the pipeline's <see cref="TimeProvider"/>.</param>
    /// <param name="destination">Receives the OpenAI body. On failure it may hold a partial body; discard it.</param>
    /// <param name="usage">The usage the upstream reported, for accounting.</param>
    /// <param name="error">A 502 when the upstream body is not an Anthropic message.</param>
    /// <remarks>
    /// Thinking, redacted thinking and server-tool blocks have no chat completions equivalent and are
    /// dropped; the id stays Anthropic's <c>msg_…</c> so a response can be traced in Anthropic's console.
    /// </remarks>
    public static bool TryTranslate(
        ReadOnlyMemory<byte> anthropicResponse,
        string publicModel,
        long created,
        IBufferWriter<byte> destination,
        out TranslatedUsage usage,
        [NotNullWhen(false)] out TranslationError? error)
    {
        usage = default;
        if (!TranslationJson.TryParse(anthropicResponse, out var document))
        {
            error = TranslationError.BadUpstream("The upstream response is not valid JSON.");
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetValue("id", out var id) || id.ValueKind != JsonValueKind.String
                || !root.TryGetValue("content", out var content) || content.ValueKind != JsonValueKind.Array)
            {
                error = TranslationError.BadUpstream("The upstream response is not an Anthropic message.");
                return false;
            }

            usage = root.TryGetValue("usage", out var usageElement) ? TranslatedUsage.FromAnthropic(usageElement) : default;
            var texts = new List<JsonElement>();
            var toolUses = 0;
            foreach (var block in content.EnumerateArray())
            {
                if (IsBlock(block, "text") && block.TryGetValue("text", out var text) && text.ValueKind == JsonValueKind.String)
                {
                    texts.Add(text);
                }
                else if (IsBlock(block, "tool_use"))
                {
                    toolUses++;
                }
            }

            using var writer = new Utf8JsonWriter(destination, TranslationJson.WriterOptions);
            writer.WriteStartObject();
            writer.WritePropertyName("id"u8);
            id.WriteTo(writer);
            writer.WriteString("object"u8, "chat.completion"u8);
            writer.WriteNumber("created"u8, created);
            writer.WriteString("model"u8, publicModel);
            writer.WriteStartArray("choices"u8);
            writer.WriteStartObject();
            writer.WriteNumber("index"u8, 0);
            writer.WriteStartObject("message"u8);
            writer.WriteString("role"u8, "assistant"u8);
            WriteContent(writer, texts, toolUses > 0);
            if (toolUses > 0)
            {
                writer.WriteStartArray("tool_calls"u8);
                foreach (var block in content.EnumerateArray())
                {
                    if (IsBlock(block, "tool_use"))
                    {
                        WriteToolCall(writer, block);
                    }
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
            writer.WriteNull("logprobs"u8);
            writer.WriteString("finish_reason"u8, StopReasons.ToFinishReason(root.TryGetValue("stop_reason", out var stopReason) ? stopReason : default));
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WritePropertyName("usage"u8);
            usage.WriteOpenAI(writer);
            writer.WriteEndObject();
            writer.Flush();
            error = null;
            return true;
        }
    }

    private static bool IsBlock(JsonElement block, string type) =>
        block.ValueKind == JsonValueKind.Object && block.TryGetValue("type", out var value) && value.ValueKind == JsonValueKind.String && value.ValueEquals(type);

    private static void WriteContent(Utf8JsonWriter writer, List<JsonElement> texts, bool hasToolCalls)
    {
        writer.WritePropertyName("content"u8);
        switch (texts.Count)
        {
            case 0 when hasToolCalls:
                writer.WriteNullValue();
                break;
            case 0:
                writer.WriteStringValue(""u8);
                break;
            case 1:
                texts[0].WriteTo(writer);
                break;
            default:
                // Anthropic splits text into blocks around citations and tool calls; OpenAI has one string.
                var builder = new StringBuilder();
                foreach (var text in texts)
                {
                    builder.Append(text.GetString());
                }

                writer.WriteStringValue(builder.ToString());
                break;
        }
    }

    private static void WriteToolCall(Utf8JsonWriter writer, JsonElement block)
    {
        writer.WriteStartObject();
        writer.WritePropertyName("id"u8);
        TranslationJson.WriteStringOrEmpty(writer, block, "id");
        writer.WriteString("type"u8, "function"u8);
        writer.WriteStartObject("function"u8);
        writer.WritePropertyName("name"u8);
        TranslationJson.WriteStringOrEmpty(writer, block, "name");
        writer.WritePropertyName("arguments"u8);
        if (block.TryGetValue("input", out var input))
        {
            TranslationJson.WriteAsJsonString(writer, input);
        }
        else
        {
            writer.WriteStringValue("{}"u8);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
