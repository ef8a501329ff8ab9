using System.Buffers;
using System.Text.Json;
using AiGateway.Protocol.Sse;

namespace AiGateway.Providers.Anthropic;

/// <summary>
/// Translates Anthropic Messages stream events into OpenAI <c>chat.completion.chunk</c> SSE, ending
/// with the finish chunk, the usage chunk (only if the client asked for it) and <c>data: [DONE]</c>.
/// </summary>
/// <remarks>
/// State kept: the message id (chunks repeat it), which Anthropic content block is which OpenAI tool
/// call (OpenAI numbers tool calls only, Anthropic numbers all blocks), the stop reason from
/// <c>message_delta</c>, and the running usage.
/// </remarks>
internal sealed class AnthropicStreamTranslator : IStreamTranslator
{
    private const int NotATool = -1;

    private readonly string _publicModel;
    private readonly long _created;
    private readonly bool _includeUsage;
    private readonly List<int> _toolIndexByBlock = [];
    private Utf8JsonWriter? _json;
    private string _id = "";
    private string? _finishReason;
    private int _toolCount;

    /// <param name="publicModel">The model name the client asked for.</param>
    /// <param name="created">Unix seconds from the pipeline's <see cref="TimeProvider"/>, the same for every chunk.</param>
    /// <param name="includeUsage">The client set <c>stream_options.include_usage</c>.</param>
    public AnthropicStreamTranslator(string publicModel, long created, bool includeUsage)
    {
        _publicModel = publicModel;
        _created = created;
        _includeUsage = includeUsage;
    }

    public TranslatedUsage Usage { get; private set; }

    public bool IsCompleted { get; private set; }

    public void TranslateEvent(ReadOnlySpan<byte> eventType, ReadOnlyMemory<byte> data, IBufferWriter<byte> output)
    {
        if (IsCompleted)
        {
            return;
        }

        if (!TranslationJson.TryParse(data, out var document))
        {
            WriteError(output, "The upstream stream sent an event that is not valid JSON.", "server_error", "invalid_upstream_response");
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            // The data's own type is authoritative; the SSE event name is the same string, kept as a fallback.
            var type = root.TryGetValue("type", out var typeElement) && typeElement.ValueKind == JsonValueKind.String ? typeElement : default;
            if (IsEvent(type, eventType, "message_start"u8))
            {
                OnMessageStart(root, output);
            }
            else if (IsEvent(type, eventType, "content_block_start"u8))
            {
                OnContentBlockStart(root, output);
            }
            else if (IsEvent(type, eventType, "content_block_delta"u8))
            {
                OnContentBlockDelta(root, output);
            }
            else if (IsEvent(type, eventType, "message_delta"u8))
            {
                OnMessageDelta(root);
            }
            else if (IsEvent(type, eventType, "message_stop"u8))
            {
                OnMessageStop(output);
            }
            else if (IsEvent(type, eventType, "error"u8))
            {
                OnError(root, output);
            }

            // ping, content_block_stop and event types Anthropic may add later carry nothing for OpenAI clients.
        }
    }

    public void Complete(IBufferWriter<byte> output)
    {
        if (!IsCompleted)
        {
            WriteError(output, "The upstream stream ended before the response was complete.", "server_error", "upstream_stream_truncated");
        }
    }

    public void Dispose() => _json?.Dispose();

    private void OnMessageStart(JsonElement root, IBufferWriter<byte> output)
    {
        if (root.TryGetValue("message", out var message) && message.ValueKind == JsonValueKind.Object)
        {
            if (message.TryGetValue("id", out var id) && id.ValueKind == JsonValueKind.String)
            {
                _id = id.GetString()!;
            }

            if (message.TryGetValue("usage", out var usage))
            {
                Usage = TranslatedUsage.FromAnthropic(usage, Usage);
            }
        }

        var writer = BeginChunk(output);
        writer.WriteString("role"u8, "assistant"u8);
        writer.WriteString("content"u8, ""u8);
        EndChunk(output, writer, null);
    }

    private void OnContentBlockStart(JsonElement root, IBufferWriter<byte> output)
    {
        if (!TryGetIndex(root, out var blockIndex) || !root.TryGetValue("content_block", out var block) || block.ValueKind != JsonValueKind.Object
            || !block.TryGetValue("type", out var blockType) || blockType.ValueKind != JsonValueKind.String)
        {
            return;
        }

        while (_toolIndexByBlock.Count <= blockIndex)
        {
            _toolIndexByBlock.Add(NotATool);
        }

        if (blockType.ValueEquals("text"))
        {
            if (block.TryGetValue("text", out var text) && text.ValueKind == JsonValueKind.String)
            {
                WriteContentChunk(output, text);
            }
        }
        else if (blockType.ValueEquals("tool_use"))
        {
            var toolIndex = _toolCount++;
            _toolIndexByBlock[blockIndex] = toolIndex;
            var writer = BeginChunk(output);
            writer.WriteStartArray("tool_calls"u8);
            writer.WriteStartObject();
            writer.WriteNumber("index"u8, toolIndex);
            writer.WritePropertyName("id"u8);
            TranslationJson.WriteStringOrEmpty(writer, block, "id");
            writer.WriteString("type"u8, "function"u8);
            writer.WriteStartObject("function"u8);
            writer.WritePropertyName("name"u8);
            TranslationJson.WriteStringOrEmpty(writer, block, "name");
            writer.WritePropertyName("arguments"u8);
            // Streamed tool input starts as {} and arrives through input_json_delta; anything already
            // present in the start event is real input and must not be lost.
            if (block.TryGetValue("input", out var input) && input.ValueKind == JsonValueKind.Object && input.EnumerateObject().Any())
            {
                TranslationJson.WriteAsJsonString(writer, input);
            }
            else
            {
                writer.WriteStringValue(""u8);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndArray();
            EndChunk(output, writer, null);
        }
    }

    private void OnContentBlockDelta(JsonElement root, IBufferWriter<byte> output)
    {
        if (!TryGetIndex(root, out var blockIndex) || !root.TryGetValue("delta", out var delta) || delta.ValueKind != JsonValueKind.Object
            || !delta.TryGetValue("type", out var deltaType) || deltaType.ValueKind != JsonValueKind.String)
        {
            return;
        }

        if (deltaType.ValueEquals("text_delta"))
        {
            if (delta.TryGetValue("text", out var text) && text.ValueKind == JsonValueKind.String)
            {
                WriteContentChunk(output, text);
            }
        }
        else if (deltaType.ValueEquals("input_json_delta"))
        {
            if (blockIndex >= _toolIndexByBlock.Count || _toolIndexByBlock[blockIndex] == NotATool
                || !delta.TryGetValue("partial_json", out var partial) || partial.ValueKind != JsonValueKind.String || partial.ValueEquals(""))
            {
                return;
            }

            var writer = BeginChunk(output);
            writer.WriteStartArray("tool_calls"u8);
            writer.WriteStartObject();
            writer.WriteNumber("index"u8, _toolIndexByBlock[blockIndex]);
            writer.WriteStartObject("function"u8);
            writer.WritePropertyName("arguments"u8);
            partial.WriteTo(writer);
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndArray();
            EndChunk(output, writer, null);
        }
    }

    private void OnMessageDelta(JsonElement root)
    {
        if (root.TryGetValue("delta", out var delta) && delta.ValueKind == JsonValueKind.Object && delta.TryGetValue("stop_reason", out var stopReason))
        {
            _finishReason = StopReasons.ToFinishReason(stopReason);
        }

        // message_delta usage is cumulative, so it replaces rather than adds.
        if (root.TryGetValue("usage", out var usage))
        {
            Usage = TranslatedUsage.FromAnthropic(usage, Usage);
        }
    }

    private void OnMessageStop(IBufferWriter<byte> output)
    {
        var writer = BeginChunk(output);
        EndChunk(output, writer, _finishReason ?? "stop");
        if (_includeUsage)
        {
            SseWriter.WriteEventStart(output, default);
            writer = Writer(output);
            writer.WriteStartObject();
            WriteChunkHeader(writer);
            writer.WriteStartArray("choices"u8);
            writer.WriteEndArray();
            writer.WritePropertyName("usage"u8);
            Usage.WriteOpenAI(writer);
            writer.WriteEndObject();
            writer.Flush();
            SseWriter.WriteEventEnd(output);
        }

        SseWriter.WriteEvent(output, default, "[DONE]"u8);
        IsCompleted = true;
    }

    private void OnError(JsonElement root, IBufferWriter<byte> output)
    {
        string? type = null;
        var message = "The upstream provider reported an error.";
        if (root.TryGetValue("error", out var error) && error.ValueKind == JsonValueKind.Object)
        {
            if (error.TryGetValue("type", out var typeElement) && typeElement.ValueKind == JsonValueKind.String)
            {
                type = typeElement.GetString();
            }

            if (error.TryGetValue("message", out var messageElement) && messageElement.ValueKind == JsonValueKind.String)
            {
                message = messageElement.GetString()!;
            }
        }

        WriteError(output, message, ErrorTranslator.OpenAITypeForAnthropicType(type), type);
    }

    /// <summary>
    /// Writes <c>data: {"error":{...}}</c>, the shape OpenAI uses for in-stream errors, and ends the
    /// stream without <c>[DONE]</c>: [DONE] means "complete", and this answer is not.
    /// </summary>
    private void WriteError(IBufferWriter<byte> output, string message, string type, string? code)
    {
        SseWriter.WriteEventStart(output, default);
        var writer = Writer(output);
        ErrorTranslator.WriteOpenAIBody(writer, message, type, null, code);
        writer.Flush();
        SseWriter.WriteEventEnd(output);
        IsCompleted = true;
    }

    private void WriteContentChunk(IBufferWriter<byte> output, JsonElement text)
    {
        if (text.ValueEquals(""))
        {
            return;
        }

        var writer = BeginChunk(output);
        writer.WritePropertyName("content"u8);
        text.WriteTo(writer);
        EndChunk(output, writer, null);
    }

    private Utf8JsonWriter BeginChunk(IBufferWriter<byte> output)
    {
        SseWriter.WriteEventStart(output, default);
        var writer = Writer(output);
        writer.WriteStartObject();
        WriteChunkHeader(writer);
        writer.WriteStartArray("choices"u8);
        writer.WriteStartObject();
        writer.WriteNumber("index"u8, 0);
        writer.WriteStartObject("delta"u8);
        return writer;
    }

    private void EndChunk(IBufferWriter<byte> output, Utf8JsonWriter writer, string? finishReason)
    {
        writer.WriteEndObject();
        writer.WriteNull("logprobs"u8);
        writer.WriteString("finish_reason"u8, finishReason);
        writer.WriteEndObject();
        writer.WriteEndArray();
        // OpenAI sends "usage":null on every chunk when include_usage is set; strict clients expect the key.
        if (_includeUsage)
        {
            writer.WriteNull("usage"u8);
        }

        writer.WriteEndObject();
        writer.Flush();
        SseWriter.WriteEventEnd(output);
    }

    private void WriteChunkHeader(Utf8JsonWriter writer)
    {
        writer.WriteString("id"u8, _id);
        writer.WriteString("object"u8, "chat.completion.chunk"u8);
        writer.WriteNumber("created"u8, _created);
        writer.WriteString("model"u8, _publicModel);
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

    private static bool IsEvent(JsonElement type, ReadOnlySpan<byte> eventType, ReadOnlySpan<byte> name) =>
        type.ValueKind == JsonValueKind.String ? type.ValueEquals(name) : eventType.SequenceEqual(name);

    private static bool TryGetIndex(JsonElement root, out int index)
    {
        index = 0;
        return root.TryGetValue("index", out var element) && element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out index) && index >= 0 && index < 4096;
    }
}
