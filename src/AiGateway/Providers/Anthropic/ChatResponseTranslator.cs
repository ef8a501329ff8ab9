using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace AiGateway.Providers.Anthropic;

/// <summary>Translates a non-streamed OpenAI <c>chat.completion</c> into an Anthropic message.</summary>
internal static class ChatResponseTranslator
{
    /// <summary>Translates <paramref name="openAIResponse"/> into <paramref name="destination"/>.</summary>
    /// <param name="openAIResponse">The upstream 200 body.</param>
    /// <param name="publicModel">The model name the client asked for.</param>
    /// <param name="destination">Receives the Anthropic body. On failure it may hold a partial body; discard it.</param>
    /// <param name="usage">The usage the upstream reported, for accounting.</param>
    /// <param name="error">A 502 when the upstream body cannot be represented as an Anthropic message.</param>
    public static bool TryTranslate(
        ReadOnlyMemory<byte> openAIResponse,
        string publicModel,
        IBufferWriter<byte> destination,
        out TranslatedUsage usage,
        [NotNullWhen(false)] out TranslationError? error)
    {
        usage = default;
        if (!TranslationJson.TryParse(openAIResponse, out var document))
        {
            error = TranslationError.BadUpstream("The upstream response is not valid JSON.");
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetValue("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0
                || choices[0].ValueKind != JsonValueKind.Object
                || !choices[0].TryGetValue("message", out var message) || message.ValueKind != JsonValueKind.Object)
            {
                error = TranslationError.BadUpstream("The upstream response is not a chat completion.");
                return false;
            }

            usage = root.TryGetValue("usage", out var usageElement) ? TranslatedUsage.FromOpenAI(usageElement) : default;
            var refused = message.TryGetValue("refusal", out var refusal) && refusal.ValueKind == JsonValueKind.String;
            using var writer = new Utf8JsonWriter(destination, TranslationJson.WriterOptions);
            writer.WriteStartObject();
            writer.WritePropertyName("id"u8);
            TranslationJson.WriteStringOrEmpty(writer, root, "id");
            writer.WriteString("type"u8, "message"u8);
            writer.WriteString("role"u8, "assistant"u8);
            writer.WriteString("model"u8, publicModel);
            writer.WriteStartArray("content"u8);
            if (message.TryGetValue("content", out var content))
            {
                WriteText(writer, content);
            }

            if (refused)
            {
                WriteText(writer, refusal);
            }

            if (message.TryGetValue("tool_calls", out var toolCalls) && toolCalls.ValueKind == JsonValueKind.Array
                && !TryWriteToolUses(writer, toolCalls, out error))
            {
                return false;
            }

            writer.WriteEndArray();
            // OpenAI reports a refusal in its own field and still says "stop".
            var finishReason = choices[0].TryGetValue("finish_reason", out var reason) ? reason : default;
            writer.WriteString("stop_reason"u8, refused ? "refusal" : StopReasons.ToStopReason(finishReason));
            writer.WriteNull("stop_sequence"u8);
            writer.WritePropertyName("usage"u8);
            usage.WriteAnthropic(writer);
            writer.WriteEndObject();
            writer.Flush();
            error = null;
            return true;
        }
    }

    private static void WriteText(Utf8JsonWriter writer, JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            WriteTextBlock(writer, content);
        }
        else if (content.ValueKind == JsonValueKind.Array)
        {
            // Some OpenAI-compatible servers answer with content parts.
            foreach (var part in content.EnumerateArray())
            {
                if (part.ValueKind == JsonValueKind.Object && part.TryGetValue("text", out var text) && text.ValueKind == JsonValueKind.String)
                {
                    WriteTextBlock(writer, text);
                }
            }
        }
    }

    private static void WriteTextBlock(Utf8JsonWriter writer, JsonElement text)
    {
        // Anthropic never returns empty text blocks, and its clients do not expect them.
        if (text.ValueEquals(""))
        {
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("type"u8, "text"u8);
        writer.WritePropertyName("text"u8);
        text.WriteTo(writer);
        writer.WriteEndObject();
    }

    private static bool TryWriteToolUses(Utf8JsonWriter writer, JsonElement toolCalls, [NotNullWhen(false)] out TranslationError? error)
    {
        foreach (var call in toolCalls.EnumerateArray())
        {
            if (call.ValueKind != JsonValueKind.Object || !call.TryGetValue("function", out var function) || function.ValueKind != JsonValueKind.Object)
            {
                error = TranslationError.BadUpstream("The upstream response has a malformed tool call.");
                return false;
            }

            var arguments = function.TryGetValue("arguments", out var argumentsElement) && argumentsElement.ValueKind == JsonValueKind.String
                ? argumentsElement.GetString()!
                : "";
            writer.WriteStartObject();
            writer.WriteString("type"u8, "tool_use"u8);
            writer.WritePropertyName("id"u8);
            TranslationJson.WriteStringOrEmpty(writer, call, "id");
            writer.WritePropertyName("name"u8);
            TranslationJson.WriteStringOrEmpty(writer, function, "name");
            writer.WritePropertyName("input"u8);
            if (string.IsNullOrWhiteSpace(arguments))
            {
                writer.WriteStartObject();
                writer.WriteEndObject();
            }
            else if (!TryWriteObject(writer, arguments))
            {
                // Models served elsewhere do emit broken JSON; Anthropic clients need an object, and
                // inventing one would hide the failure, so the response is refused as a bad upstream answer.
                error = TranslationError.BadUpstream("The upstream model returned tool arguments that are not a JSON object.");
                return false;
            }

            writer.WriteEndObject();
        }

        error = null;
        return true;
    }

    private static bool TryWriteObject(Utf8JsonWriter writer, string json)
    {
        try
        {
            using var input = JsonDocument.Parse(json);
            if (input.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            input.RootElement.WriteTo(writer);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
