using System.Buffers;
using System.Text.Json;
using AiGateway.Protocol.Sse;

namespace AiGateway.Providers.Anthropic;

/// <summary>
/// Relays an Anthropic Messages stream to an Anthropic client unchanged, event by event, reading the
/// usage from <c>message_start</c> and <c>message_delta</c> on the way. Only those two events are
/// parsed; text deltas cross as bytes.
/// </summary>
internal sealed class AnthropicStreamPassthrough : IStreamTranslator
{
    public TranslatedUsage Usage { get; private set; }

    public bool IsCompleted { get; private set; }

    public void TranslateEvent(ReadOnlySpan<byte> eventType, ReadOnlyMemory<byte> data, IBufferWriter<byte> output)
    {
        if (IsCompleted)
        {
            return;
        }

        // Anthropic names every event; a nameless one keeps the WHATWG default and is written without a name.
        SseWriter.WriteEvent(output, eventType.SequenceEqual("message"u8) ? ReadOnlySpan<byte>.Empty : eventType, data.Span);
        if (eventType.SequenceEqual("message_start"u8) || eventType.SequenceEqual("message_delta"u8))
        {
            ReadUsage(data);
        }
        else if (eventType.SequenceEqual("message_stop"u8) || eventType.SequenceEqual("error"u8))
        {
            IsCompleted = true;
        }
    }

    public void Complete(IBufferWriter<byte> output)
    {
        if (IsCompleted)
        {
            return;
        }

        // Same rule as the translators: a cut stream must not look like a finished answer.
        SseWriter.WriteEventStart(output, "error"u8);
        using (var writer = new Utf8JsonWriter(output, TranslationJson.WriterOptions))
        {
            ErrorTranslator.WriteAnthropicBody(writer, "api_error", "The upstream stream ended before the response was complete.");
        }
        SseWriter.WriteEventEnd(output);
        IsCompleted = true;
    }

    public void Dispose()
    {
    }

    private void ReadUsage(ReadOnlyMemory<byte> data)
    {
        if (!TranslationJson.TryParse(data, out var document))
        {
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            // message_start carries usage inside the message; message_delta at the top level.
            var usage = root.TryGetValue("message", out var message) ? message.TryGetValue("usage", out var inner) ? inner : default
                : root.TryGetValue("usage", out var outer) ? outer : default;
            Usage = TranslatedUsage.FromAnthropic(usage, Usage);
        }
    }
}
