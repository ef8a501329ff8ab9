using System.Buffers;
using System.Text.Json;
using AiGateway.Protocol;
using AiGateway.Protocol.Sse;

namespace AiGateway.Caching;

/// <summary>
/// Answers a request from a cached entry: the stored JSON as is, or, for <c>stream: true</c>, the same
/// answer as an OpenAI SSE stream: per choice a role chunk, a content chunk and a finish chunk, then the
/// usage chunk when <c>stream_options.include_usage</c> asked for it, then <c>[DONE]</c>.
/// </summary>
internal static class CacheReplay
{
    public static Task WriteJsonAsync(HttpResponse response, CachedResponse entry, CancellationToken ct)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        response.ContentLength = entry.Body.Length;
        return response.Body.WriteAsync(entry.Body, ct).AsTask();
    }

    public static async Task WriteStreamAsync(HttpResponse response, CachedResponse entry, bool includeUsage, CancellationToken ct)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        WriteStream(response.BodyWriter, entry, includeUsage);
        await response.BodyWriter.FlushAsync(ct);
    }

    /// <summary>The whole stream, written into <paramref name="output"/> in one go: a cached answer has nothing to wait for.</summary>
    internal static void WriteStream(IBufferWriter<byte> output, CachedResponse entry, bool includeUsage)
    {
        using var document = JsonDocument.Parse(entry.Body);
        var root = document.RootElement;
        var chat = entry.Operation == AiOperation.ChatCompletions;
        var head = new ChunkHead(
            root.TryGetProperty("id", out var id) ? id : default,
            chat ? "chat.completion.chunk" : "text_completion",
            root.TryGetProperty("created", out var created) ? created : default,
            root.TryGetProperty("model", out var model) ? model : default,
            root.TryGetProperty("system_fingerprint", out var fingerprint) && fingerprint.ValueKind == JsonValueKind.String ? fingerprint : default,
            includeUsage);

        using var writer = new Utf8JsonWriter(output, OpenAiError.WriterOptions);
        foreach (var choice in root.GetProperty("choices").EnumerateArray())
        {
            var index = choice.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : 0;
            var finish = choice.GetProperty("finish_reason").GetString();
            if (chat)
            {
                var message = choice.TryGetProperty("message", out var m) ? m : default;
                var content = Text(message, "content");
                var refusal = Text(message, "refusal");
                Chunk(output, writer, head, index, null, w =>
                {
                    w.WriteString("role", "assistant");
                    w.WriteString("content", "");
                });
                if (content is { ValueKind: JsonValueKind.String } c && c.GetString()!.Length > 0)
                {
                    Chunk(output, writer, head, index, null, w => { w.WritePropertyName("content"); c.WriteTo(w); });
                }
                if (refusal is { ValueKind: JsonValueKind.String } r)
                {
                    Chunk(output, writer, head, index, null, w => { w.WritePropertyName("refusal"); r.WriteTo(w); });
                }
                Chunk(output, writer, head, index, finish, static _ => { });
            }
            else
            {
                if (Text(choice, "text") is { ValueKind: JsonValueKind.String } t)
                {
                    Chunk(output, writer, head, index, null, w => { w.WritePropertyName("text"); t.WriteTo(w); });
                }
                Chunk(output, writer, head, index, finish, static w => w.WriteString("text", ""));
            }
        }

        if (includeUsage && root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            Event(output, writer, w =>
            {
                head.WriteStart(w);
                w.WriteStartArray("choices");
                w.WriteEndArray();
                w.WritePropertyName("usage");
                usage.WriteTo(w);
                w.WriteEndObject();
            });
        }
        SseWriter.WriteEvent(output, ReadOnlySpan<byte>.Empty, "[DONE]"u8);
    }

    private static JsonElement? Text(JsonElement owner, string name) =>
        owner.ValueKind == JsonValueKind.Object && owner.TryGetProperty(name, out var value) ? value : null;

    /// <param name="body">Writes the members of <c>delta</c> (chat) or of the choice itself (completions).</param>
    private static void Chunk(IBufferWriter<byte> output, Utf8JsonWriter writer, ChunkHead head, int index, string? finish, Action<Utf8JsonWriter> body) =>
        Event(output, writer, w =>
        {
            var chat = head.Object == "chat.completion.chunk";
            head.WriteStart(w);
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", index);
            if (chat)
            {
                w.WriteStartObject("delta");
                body(w);
                w.WriteEndObject();
            }
            else
            {
                body(w);
            }
            w.WriteNull("logprobs");
            if (finish is null) w.WriteNull("finish_reason"); else w.WriteString("finish_reason", finish);
            w.WriteEndObject();
            w.WriteEndArray();
            // With include_usage every chunk but the last carries "usage": null, as OpenAI streams do.
            if (head.IncludeUsage) w.WriteNull("usage");
            w.WriteEndObject();
        });

    private static void Event(IBufferWriter<byte> output, Utf8JsonWriter writer, Action<Utf8JsonWriter> write)
    {
        SseWriter.WriteEventStart(output, ReadOnlySpan<byte>.Empty);
        writer.Reset(output);
        write(writer);
        writer.Flush();
        SseWriter.WriteEventEnd(output);
    }

    private readonly record struct ChunkHead(JsonElement Id, string Object, JsonElement Created, JsonElement Model, JsonElement Fingerprint, bool IncludeUsage)
    {
        public void WriteStart(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            WriteMember(w, "id", Id);
            w.WriteString("object", Object);
            WriteMember(w, "created", Created);
            WriteMember(w, "model", Model);
            if (Fingerprint.ValueKind == JsonValueKind.String) WriteMember(w, "system_fingerprint", Fingerprint);
        }

        private static void WriteMember(Utf8JsonWriter w, string name, JsonElement value)
        {
            w.WritePropertyName(name);
            if (value.ValueKind == JsonValueKind.Undefined) w.WriteNullValue(); else value.WriteTo(w);
        }
    }
}
