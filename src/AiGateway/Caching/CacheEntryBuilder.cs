using System.Buffers;
using System.Text;
using System.Text.Json;
using AiGateway.Protocol;
using AiGateway.Protocol.Sse;

namespace AiGateway.Caching;

/// <summary>
/// Builds a cache entry from the bytes the client received. A JSON answer is kept as it was sent; an
/// SSE answer is parsed event by event as it passes and assembled into the completion JSON the same
/// request would have got without <c>stream</c>. Only complete, successful, tool-free answers qualify.
/// </summary>
internal sealed class CacheEntryBuilder : IResponseTap, IDisposable
{
    private readonly HttpResponse _response;
    private readonly AiOperation _operation;
    private readonly int _maxBytes;
    private ArrayBufferWriter<byte>? _json;
    private StreamAssembly? _stream;
    private bool _started;

    public CacheEntryBuilder(HttpResponse response, AiOperation operation, int maxBytes)
    {
        _response = response;
        _operation = operation;
        _maxBytes = maxBytes;
    }

    /// <summary>Why the answer cannot be stored, once known; null while it still can.</summary>
    public string? Rejection { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (Rejection is not null || data.IsEmpty) return;
        if (!_started)
        {
            _started = true;
            if (_response.StatusCode != StatusCodes.Status200OK)
            {
                Rejection = "status";
                return;
            }
            var contentType = _response.ContentType ?? "";
            if (contentType.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase))
            {
                if (_operation == AiOperation.Embeddings)
                {
                    Rejection = "format";
                    return;
                }
                _stream = new StreamAssembly(_operation == AiOperation.ChatCompletions, _maxBytes);
            }
            else if (contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            {
                _json = new ArrayBufferWriter<byte>(Math.Min(_maxBytes, 16 * 1024));
            }
            else
            {
                Rejection = "format";
                return;
            }
        }

        if (_stream is not null)
        {
            Rejection = _stream.Feed(data);
            if (Rejection is not null)
            {
                _stream.Dispose();
                _stream = null;
            }
        }
        else if (_json!.WrittenCount + data.Length > _maxBytes)
        {
            Rejection = "too_large";
            _json = null;
        }
        else
        {
            _json.Write(data);
        }
    }

    /// <summary>The entry, or null with <see cref="Rejection"/> set. <paramref name="usage"/> is what the relay recorded.</summary>
    public CachedResponse? Build(TokenUsage? usage, long nowUnixSeconds)
    {
        if (Rejection is not null) return null;
        if (!_started || _response.StatusCode != StatusCodes.Status200OK)
        {
            Rejection = "status";
            return null;
        }
        if (usage is not { Source: UsageSource.Reported } reported)
        {
            // Counted usage means the stream broke off or the client left: the answer is incomplete.
            Rejection = "incomplete";
            return null;
        }

        byte[]? body;
        if (_stream is not null)
        {
            body = _stream.Build(reported, out var rejection);
            Rejection = rejection;
        }
        else
        {
            body = _json!.WrittenSpan.ToArray();
            Rejection = Validate(body, _operation);
        }
        if (Rejection is not null || body is null) return null;
        if (body.Length > _maxBytes)
        {
            Rejection = "too_large";
            return null;
        }

        return new CachedResponse
        {
            Operation = _operation,
            Body = body,
            PromptTokens = reported.PromptTokens,
            CompletionTokens = reported.CompletionTokens,
            StoredAtUnixSeconds = nowUnixSeconds,
        };
    }

    public void Dispose() => _stream?.Dispose();

    /// <summary>A JSON answer qualifies when it is a complete result with no tool call and no error.</summary>
    internal static string? Validate(byte[] body, AiOperation operation)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || root.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
            {
                return "error";
            }
            if (operation == AiOperation.Embeddings)
            {
                return root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array ? null : "format";
            }
            if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            {
                return "format";
            }
            foreach (var choice in choices.EnumerateArray())
            {
                if (choice.ValueKind != JsonValueKind.Object) return "format";
                if (!choice.TryGetProperty("finish_reason", out var finish) || finish.ValueKind != JsonValueKind.String) return "incomplete";
                if (IsToolFinish(finish.GetString())) return "tool_calls";
                if (choice.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object && HasToolCall(message)) return "tool_calls";
            }
            return null;
        }
        catch (JsonException)
        {
            return "format";
        }
    }

    internal static bool IsToolFinish(string? finish) => finish is "tool_calls" or "function_call";

    private static bool HasToolCall(JsonElement messageOrDelta) =>
        messageOrDelta.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array && calls.GetArrayLength() > 0
        || messageOrDelta.TryGetProperty("function_call", out var call) && call.ValueKind == JsonValueKind.Object;

    /// <summary>The streamed answer, folded choice by choice as its chunks pass.</summary>
    private sealed class StreamAssembly(bool chat, int maxBytes) : IDisposable
    {
        private readonly SseParser _parser = new();
        private readonly SortedDictionary<int, Choice> _choices = [];
        private string? _id;
        private string? _model;
        private string? _fingerprint;
        private long _created;
        private byte[]? _usage;
        private bool _done;
        private long _textBytes;

        private sealed class Choice
        {
            public StringBuilder? Content;
            public StringBuilder? Refusal;
            public string? Finish;
        }

        public string? Feed(ReadOnlySpan<byte> data)
        {
            try
            {
                while (!data.IsEmpty)
                {
                    var dispatched = _parser.TryReadEvent(data, out var consumed, out var sseEvent);
                    data = data[consumed..];
                    if (!dispatched) continue;
                    if (_done) return "format";
                    var payload = sseEvent.Data.Span;
                    if (payload.SequenceEqual("[DONE]"u8))
                    {
                        _done = true;
                        continue;
                    }
                    if (ReadChunk(sseEvent.Data) is { } rejection) return rejection;
                }
                return null;
            }
            catch (InvalidDataException)
            {
                return "too_large";
            }
        }

        private string? ReadChunk(ReadOnlyMemory<byte> json)
        {
            try
            {
                using var document = JsonDocument.Parse(json);
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object) return "format";
                if (root.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null) return "error";
                if (_id is null)
                {
                    _id = root.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : "";
                    _model = root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String ? model.GetString() : "";
                    _created = root.TryGetProperty("created", out var created) && created.TryGetInt64(out var c) ? c : 0;
                }
                if (_fingerprint is null && root.TryGetProperty("system_fingerprint", out var fingerprint) && fingerprint.ValueKind == JsonValueKind.String)
                {
                    _fingerprint = fingerprint.GetString();
                }
                if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    _usage = Encoding.UTF8.GetBytes(usage.GetRawText());
                }
                if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array) return null;
                foreach (var item in choices.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Object) return "format";
                    var index = item.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : 0;
                    if (!_choices.TryGetValue(index, out var choice))
                    {
                        if (_choices.Count >= 128) return "format";
                        _choices[index] = choice = new Choice();
                    }
                    if (chat)
                    {
                        if (item.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
                        {
                            if (HasToolCall(delta)) return "tool_calls";
                            if (Append(ref choice.Content, delta, "content") is { } r1) return r1;
                            if (Append(ref choice.Refusal, delta, "refusal") is { } r2) return r2;
                        }
                    }
                    else if (Append(ref choice.Content, item, "text") is { } r3)
                    {
                        return r3;
                    }
                    if (item.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String)
                    {
                        choice.Finish = finish.GetString();
                        if (IsToolFinish(choice.Finish)) return "tool_calls";
                    }
                }
                return null;
            }
            catch (JsonException)
            {
                return "format";
            }
        }

        private string? Append(ref StringBuilder? target, JsonElement owner, string name)
        {
            if (!owner.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String) return null;
            var text = value.GetString()!;
            _textBytes += text.Length;
            if (_textBytes > maxBytes) return "too_large";
            (target ??= new StringBuilder()).Append(text);
            return null;
        }

        public byte[]? Build(TokenUsage usage, out string? rejection)
        {
            rejection = !_done ? "incomplete" : _choices.Count == 0 ? "format" : null;
            foreach (var choice in _choices.Values)
            {
                if (choice.Finish is null) rejection ??= "incomplete";
            }
            if (rejection is not null) return null;

            var buffer = new ArrayBufferWriter<byte>((int)Math.Min(int.MaxValue, _textBytes * 2 + 512));
            using (var writer = new Utf8JsonWriter(buffer, OpenAiError.WriterOptions))
            {
                writer.WriteStartObject();
                writer.WriteString("id", _id);
                writer.WriteString("object", chat ? "chat.completion" : "text_completion");
                writer.WriteNumber("created", _created);
                writer.WriteString("model", _model);
                writer.WriteStartArray("choices");
                foreach (var (index, choice) in _choices)
                {
                    writer.WriteStartObject();
                    writer.WriteNumber("index", index);
                    if (chat)
                    {
                        writer.WriteStartObject("message");
                        writer.WriteString("role", "assistant");
                        WriteText(writer, "content", choice.Content);
                        WriteText(writer, "refusal", choice.Refusal);
                        writer.WriteEndObject();
                    }
                    else
                    {
                        writer.WriteString("text", choice.Content?.ToString() ?? "");
                    }
                    writer.WriteNull("logprobs");
                    writer.WriteString("finish_reason", choice.Finish);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WritePropertyName("usage");
                if (_usage is not null)
                {
                    writer.WriteRawValue(_usage, skipInputValidation: true);
                }
                else
                {
                    WriteUsage(writer, usage);
                }
                if (_fingerprint is not null) writer.WriteString("system_fingerprint", _fingerprint);
                writer.WriteEndObject();
            }
            return buffer.WrittenSpan.ToArray();
        }

        private static void WriteText(Utf8JsonWriter writer, string name, StringBuilder? text)
        {
            if (text is null) writer.WriteNull(name);
            else writer.WriteString(name, text.ToString());
        }

        private static void WriteUsage(Utf8JsonWriter writer, TokenUsage usage)
        {
            writer.WriteStartObject();
            writer.WriteNumber("prompt_tokens", usage.PromptTokens);
            writer.WriteNumber("completion_tokens", usage.CompletionTokens);
            writer.WriteNumber("total_tokens", usage.TotalTokens);
            if (usage.CachedTokens > 0)
            {
                writer.WriteStartObject("prompt_tokens_details");
                writer.WriteNumber("cached_tokens", usage.CachedTokens);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }

        public void Dispose() => _parser.Dispose();
    }
}
