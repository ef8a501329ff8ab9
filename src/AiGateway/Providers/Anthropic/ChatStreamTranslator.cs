using System.Buffers;
using System.Text.Json;
using AiGateway.Protocol.Sse;

namespace AiGateway.Providers.Anthropic;

/// <summary>
/// Translates an OpenAI <c>chat.completion.chunk</c> stream into Anthropic Messages stream events
/// (<c>message_start</c>, <c>content_block_start/delta/stop</c>, <c>message_delta</c>, <c>message_stop</c>).
/// </summary>
/// <remarks>
/// State kept: whether <c>message_start</c> went out, the open content block (Anthropic blocks are
/// sequential, OpenAI deltas are not), which block each OpenAI tool-call index became, the finish
/// reason, and the usage. <c>message_delta</c> waits for <c>[DONE]</c> because with
/// <c>include_usage</c> the usage chunk arrives after the finish reason.
/// </remarks>
internal sealed class ChatStreamTranslator : IStreamTranslator
{
    private const int NoBlock = -1;

    private readonly string _publicModel;
    private readonly Dictionary<int, int> _blockByToolIndex = [];
    private Utf8JsonWriter? _json;
    private bool _started;
    private int _openBlock = NoBlock;
    private bool _openBlockIsText;
    private int _nextBlock;
    private string? _stopReason;

    /// <param name="publicModel">The model name the client asked for.</param>
    public ChatStreamTranslator(string publicModel) => _publicModel = publicModel;

    public TranslatedUsage Usage { get; private set; }

    public bool IsCompleted { get; private set; }

    public void TranslateEvent(ReadOnlySpan<byte> eventType, ReadOnlyMemory<byte> data, IBufferWriter<byte> output)
    {
        if (IsCompleted)
        {
            return;
        }

        if (data.Span.SequenceEqual("[DONE]"u8))
        {
            Finish(output);
            return;
        }

        if (!TranslationJson.TryParse(data, out var document))
        {
            WriteError(output, "api_error", "The upstream stream sent an event that is not valid JSON.");
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            if (root.TryGetValue("error", out var error))
            {
                OnError(error, output);
                return;
            }

            EnsureStarted(root, output);
            if (root.TryGetValue("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0
                && choices[0].ValueKind == JsonValueKind.Object)
            {
                OnChoice(choices[0], output);
            }

            if (root.TryGetValue("usage", out var usage))
            {
                Usage = TranslatedUsage.FromOpenAI(usage);
            }
        }
    }

    public void Complete(IBufferWriter<byte> output)
    {
        if (IsCompleted)
        {
            return;
        }

        // Some OpenAI-compatible servers close the stream after the finish reason without [DONE].
        if (_stopReason is not null)
        {
            Finish(output);
        }
        else
        {
            WriteError(output, "api_error", "The upstream stream ended before the response was complete.");
        }
    }

    public void Dispose() => _json?.Dispose();

    private void EnsureStarted(JsonElement chunk, IBufferWriter<byte> output)
    {
        if (_started)
        {
            return;
        }

        _started = true;
        var writer = BeginEvent(output, "message_start"u8);
        writer.WriteStartObject("message"u8);
        writer.WritePropertyName("id"u8);
        TranslationJson.WriteStringOrEmpty(writer, chunk, "id");
        writer.WriteString("type"u8, "message"u8);
        writer.WriteString("role"u8, "assistant"u8);
        writer.WriteString("model"u8, _publicModel);
        writer.WriteStartArray("content"u8);
        writer.WriteEndArray();
        writer.WriteNull("stop_reason"u8);
        writer.WriteNull("stop_sequence"u8);
        // OpenAI reports usage only at the end; the real numbers follow in message_delta.
        writer.WritePropertyName("usage"u8);
        default(TranslatedUsage).WriteAnthropic(writer);
        writer.WriteEndObject();
        EndEvent(output, writer);
    }

    private void OnChoice(JsonElement choice, IBufferWriter<byte> output)
    {
        if (choice.TryGetValue("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
        {
            foreach (var name in (ReadOnlySpan<string>)["content", "refusal"])
            {
                if (delta.TryGetValue(name, out var text) && text.ValueKind == JsonValueKind.String && !text.ValueEquals(""))
                {
                    WriteTextDelta(output, text);
                }
            }

            if (delta.TryGetValue("tool_calls", out var toolCalls) && toolCalls.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in toolCalls.EnumerateArray())
                {
                    OnToolCallDelta(call, output);
                }
            }
        }

        if (choice.TryGetValue("finish_reason", out var finishReason))
        {
            _stopReason = StopReasons.ToStopReason(finishReason);
            CloseOpenBlock(output);
        }
    }

    private void WriteTextDelta(IBufferWriter<byte> output, JsonElement text)
    {
        if (_openBlock == NoBlock || !_openBlockIsText)
        {
            CloseOpenBlock(output);
            _openBlock = _nextBlock++;
            _openBlockIsText = true;
            var start = BeginEvent(output, "content_block_start"u8);
            start.WriteNumber("index"u8, _openBlock);
            start.WriteStartObject("content_block"u8);
            start.WriteString("type"u8, "text"u8);
            start.WriteString("text"u8, ""u8);
            start.WriteEndObject();
            EndEvent(output, start);
        }

        var writer = BeginEvent(output, "content_block_delta"u8);
        writer.WriteNumber("index"u8, _openBlock);
        writer.WriteStartObject("delta"u8);
        writer.WriteString("type"u8, "text_delta"u8);
        writer.WritePropertyName("text"u8);
        text.WriteTo(writer);
        writer.WriteEndObject();
        EndEvent(output, writer);
    }

    private void OnToolCallDelta(JsonElement call, IBufferWriter<byte> output)
    {
        if (call.ValueKind != JsonValueKind.Object
            || !call.TryGetValue("index", out var indexElement) || indexElement.ValueKind != JsonValueKind.Number || !indexElement.TryGetInt32(out var toolIndex))
        {
            return;
        }

        var function = call.TryGetValue("function", out var f) && f.ValueKind == JsonValueKind.Object ? f : default;
        // A tool call starts when its index is new (or a new id reuses it); later deltas only carry arguments.
        var hasId = call.TryGetValue("id", out var id) && id.ValueKind == JsonValueKind.String;
        if (!_blockByToolIndex.TryGetValue(toolIndex, out var block) || (hasId && block != _openBlock))
        {
            CloseOpenBlock(output);
            block = _nextBlock++;
            _blockByToolIndex[toolIndex] = block;
            _openBlock = block;
            _openBlockIsText = false;
            var start = BeginEvent(output, "content_block_start"u8);
            start.WriteNumber("index"u8, block);
            start.WriteStartObject("content_block"u8);
            start.WriteString("type"u8, "tool_use"u8);
            start.WritePropertyName("id"u8);
            TranslationJson.WriteStringOrEmpty(start, call, "id");
            start.WritePropertyName("name"u8);
            if (function.ValueKind == JsonValueKind.Object)
            {
                TranslationJson.WriteStringOrEmpty(start, function, "name");
            }
            else
            {
                start.WriteStringValue(""u8);
            }

            start.WriteStartObject("input"u8);
            start.WriteEndObject();
            start.WriteEndObject();
            EndEvent(output, start);
        }

        if (function.ValueKind == JsonValueKind.Object && function.TryGetValue("arguments", out var arguments)
            && arguments.ValueKind == JsonValueKind.String && !arguments.ValueEquals(""))
        {
            var writer = BeginEvent(output, "content_block_delta"u8);
            writer.WriteNumber("index"u8, block);
            writer.WriteStartObject("delta"u8);
            writer.WriteString("type"u8, "input_json_delta"u8);
            writer.WritePropertyName("partial_json"u8);
            arguments.WriteTo(writer);
            writer.WriteEndObject();
            EndEvent(output, writer);
        }
    }

    private void CloseOpenBlock(IBufferWriter<byte> output)
    {
        if (_openBlock == NoBlock)
        {
            return;
        }

        var writer = BeginEvent(output, "content_block_stop"u8);
        writer.WriteNumber("index"u8, _openBlock);
        EndEvent(output, writer);
        _openBlock = NoBlock;
    }

    private void Finish(IBufferWriter<byte> output)
    {
        if (!_started)
        {
            EnsureStarted(default, output);
        }

        CloseOpenBlock(output);
        var writer = BeginEvent(output, "message_delta"u8);
        writer.WriteStartObject("delta"u8);
        writer.WriteString("stop_reason"u8, _stopReason ?? "end_turn");
        writer.WriteNull("stop_sequence"u8);
        writer.WriteEndObject();
        writer.WritePropertyName("usage"u8);
        Usage.WriteAnthropic(writer);
        EndEvent(output, writer);

        writer = BeginEvent(output, "message_stop"u8);
        EndEvent(output, writer);
        IsCompleted = true;
    }

    private void OnError(JsonElement error, IBufferWriter<byte> output)
    {
        string? type = null;
        string? code = null;
        var message = "The upstream provider reported an error.";
        if (error.ValueKind == JsonValueKind.Object)
        {
            type = error.TryGetValue("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            code = error.TryGetValue("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            if (error.TryGetValue("message", out var m) && m.ValueKind == JsonValueKind.String)
            {
                message = m.GetString()!;
            }
        }

        WriteError(output, ErrorTranslator.AnthropicTypeForOpenAIError(type, code), message);
    }

    /// <summary>Writes Anthropic's in-stream <c>error</c> event; nothing follows it, as with Anthropic's own API.</summary>
    private void WriteError(IBufferWriter<byte> output, string type, string message)
    {
        SseWriter.WriteEventStart(output, "error"u8);
        var writer = Writer(output);
        ErrorTranslator.WriteAnthropicBody(writer, type, message);
        writer.Flush();
        SseWriter.WriteEventEnd(output);
        IsCompleted = true;
    }

    private Utf8JsonWriter BeginEvent(IBufferWriter<byte> output, ReadOnlySpan<byte> type)
    {
        SseWriter.WriteEventStart(output, type);
        var writer = Writer(output);
        writer.WriteStartObject();
        writer.WriteString("type"u8, type);
        return writer;
    }

    private static void EndEvent(IBufferWriter<byte> output, Utf8JsonWriter writer)
    {
        writer.WriteEndObject();
        writer.Flush();
        SseWriter.WriteEventEnd(output);
    }

    private Utf8JsonWriter Writer(IBufferWriter<byte> output)
    {
        // One writer per stream, re-pointed at each call's output: no allocation per event.
        if (_json is null)
        {
            _json = new Utf8JsonWriter(output, TranslationJson.WriterOptions);
        }
        else
        {
            _json.Reset(output);
        }

        return _json;
    }
}
