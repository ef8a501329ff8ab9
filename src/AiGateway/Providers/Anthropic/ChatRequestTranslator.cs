using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace AiGateway.Providers.Anthropic;

/// <summary>
/// Translates an Anthropic Messages request (the gateway's inbound Anthropic surface) into an OpenAI
/// chat completions request for an OpenAI-compatible deployment. The parameter policy is in README.md.
/// </summary>
internal static class ChatRequestTranslator
{
    /// <summary>Translates <paramref name="anthropicRequest"/> into <paramref name="destination"/>.</summary>
    /// <param name="anthropicRequest">The client's request body as received (UTF-8 JSON).</param>
    /// <param name="upstreamModel">The deployment's model name.</param>
    /// <param name="destination">Receives the OpenAI body. On failure it may hold a partial body; discard it.</param>
    /// <param name="request">
    /// Whether the client streams. When it does, the upstream is always asked for a usage chunk, because
    /// Anthropic's <c>message_delta</c> must report output tokens.
    /// </param>
    /// <param name="error">The 400 to return (in Anthropic's shape) when the request cannot be translated.</param>
    public static bool TryTranslate(
        ReadOnlyMemory<byte> anthropicRequest,
        string upstreamModel,
        IBufferWriter<byte> destination,
        out TranslatedRequest request,
        [NotNullWhen(false)] out TranslationError? error)
    {
        request = default;
        if (!TranslationJson.TryParse(anthropicRequest, out var document))
        {
            error = TranslationError.InvalidJson();
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = TranslationError.InvalidType("body", "a JSON object");
                return false;
            }

            if (!TryValidate(root, out var maxTokens, out var stream, out error))
            {
                return false;
            }

            using var writer = new Utf8JsonWriter(destination, TranslationJson.WriterOptions);
            writer.WriteStartObject();
            writer.WriteString("model"u8, upstreamModel);
            writer.WriteStartArray("messages"u8);
            WriteSystem(writer, root);
            var index = 0;
            foreach (var message in root.GetProperty("messages").EnumerateArray())
            {
                if (!TryWriteMessage(writer, message, $"messages[{index}]", out error))
                {
                    return false;
                }

                index++;
            }

            writer.WriteEndArray();
            // max_tokens rather than max_completion_tokens: every OpenAI-compatible server (vLLM, Ollama,
            // llama.cpp, Azure) understands it, while the newer name is not universally supported.
            writer.WriteNumber("max_tokens"u8, maxTokens);
            if (root.TryGetValue("stop_sequences", out var stop) && stop.GetArrayLength() > 0)
            {
                writer.WritePropertyName("stop"u8);
                stop.WriteTo(writer);
            }

            if (stream)
            {
                writer.WriteBoolean("stream"u8, true);
                writer.WriteStartObject("stream_options"u8);
                writer.WriteBoolean("include_usage"u8, true);
                writer.WriteEndObject();
            }

            foreach (var name in (ReadOnlySpan<string>)["temperature", "top_p"])
            {
                if (root.TryGetValue(name, out var number))
                {
                    writer.WritePropertyName(name);
                    number.WriteTo(writer);
                }
            }

            if (root.TryGetValue("tools", out var tools) && tools.GetArrayLength() > 0)
            {
                WriteTools(writer, tools);
                if (root.TryGetValue("tool_choice", out var toolChoice))
                {
                    WriteToolChoice(writer, toolChoice);
                }
            }

            if (root.TryGetValue("metadata", out var metadata) && metadata.TryGetValue("user_id", out var userId))
            {
                writer.WritePropertyName("user"u8);
                userId.WriteTo(writer);
            }

            writer.WriteEndObject();
            writer.Flush();
            request = new TranslatedRequest(stream, stream);
            error = null;
            return true;
        }
    }

    private static bool TryValidate(JsonElement root, out int maxTokens, out bool stream, [NotNullWhen(false)] out TranslationError? error)
    {
        maxTokens = 0;
        stream = false;
        error = null;
        if (!root.TryGetValue("max_tokens", out var maxTokensElement))
        {
            error = TranslationError.Missing("max_tokens");
        }
        else if (maxTokensElement.ValueKind != JsonValueKind.Number || !maxTokensElement.TryGetInt32(out maxTokens) || maxTokens < 1)
        {
            error = TranslationError.InvalidType("max_tokens", "a positive integer");
        }
        else if (!root.TryGetValue("messages", out var messages))
        {
            error = TranslationError.Missing("messages");
        }
        else if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            error = TranslationError.InvalidType("messages", "a non-empty array");
        }
        else if (root.TryGetValue("stream", out var streamElement) && streamElement.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            error = TranslationError.InvalidType("stream", "a boolean");
        }
        else if (root.TryGetValue("system", out var system) && !IsTextOnly(system))
        {
            error = TranslationError.InvalidType("system", "a string or an array of text blocks");
        }
        else if (root.TryGetValue("temperature", out var temperature) && temperature.ValueKind != JsonValueKind.Number)
        {
            error = TranslationError.InvalidType("temperature", "a number");
        }
        else if (root.TryGetValue("top_p", out var topP) && topP.ValueKind != JsonValueKind.Number)
        {
            error = TranslationError.InvalidType("top_p", "a number");
        }
        else if (root.TryGetValue("stop_sequences", out var stop) && !IsStringArray(stop))
        {
            error = TranslationError.InvalidType("stop_sequences", "an array of strings");
        }
        else if (root.TryGetValue("metadata", out var metadata)
            && (metadata.ValueKind != JsonValueKind.Object || (metadata.TryGetValue("user_id", out var userId) && userId.ValueKind != JsonValueKind.String)))
        {
            error = TranslationError.InvalidType("metadata.user_id", "a string");
        }
        else if (root.TryGetValue("mcp_servers", out var mcpServers) && !(mcpServers.ValueKind == JsonValueKind.Array && mcpServers.GetArrayLength() == 0))
        {
            error = TranslationError.Unsupported("mcp_servers", "mcp_servers: MCP connectors are only available on Anthropic deployments.");
        }
        else if (root.TryGetValue("container", out _))
        {
            error = TranslationError.Unsupported("container", "container: code execution containers are only available on Anthropic deployments.");
        }
        else
        {
            TryValidateTools(root, out error);
        }

        stream = error is null && root.TryGetValue("stream", out var flag) && flag.ValueKind == JsonValueKind.True;
        if (error is not null)
        {
            return false;
        }

        return true;
    }

    private static bool TryValidateTools(JsonElement root, [NotNullWhen(false)] out TranslationError? error)
    {
        error = null;
        if (root.TryGetValue("tools", out var tools))
        {
            if (tools.ValueKind != JsonValueKind.Array)
            {
                error = TranslationError.InvalidType("tools", "an array");
                return false;
            }

            var index = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                var param = $"tools[{index++}]";
                if (tool.ValueKind != JsonValueKind.Object)
                {
                    error = TranslationError.InvalidType(param, "an object");
                    return false;
                }

                // Server tools (web search, code execution, computer use…) run inside Anthropic's API.
                if (tool.TryGetValue("type", out var type) && !(type.ValueKind == JsonValueKind.String && type.ValueEquals("custom")))
                {
                    error = TranslationError.Unsupported($"{param}.type", $"{param}.type: server tools are only available on Anthropic deployments.");
                    return false;
                }

                if (!tool.TryGetValue("name", out var name) || name.ValueKind != JsonValueKind.String)
                {
                    error = TranslationError.Missing($"{param}.name");
                    return false;
                }

                if (tool.TryGetValue("description", out var description) && description.ValueKind != JsonValueKind.String)
                {
                    error = TranslationError.InvalidType($"{param}.description", "a string");
                    return false;
                }

                if (!tool.TryGetValue("input_schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
                {
                    error = TranslationError.InvalidType($"{param}.input_schema", "an object");
                    return false;
                }
            }
        }

        if (root.TryGetValue("tool_choice", out var choice))
        {
            var type = choice.ValueKind == JsonValueKind.Object && choice.TryGetValue("type", out var t) && t.ValueKind == JsonValueKind.String ? t : default;
            var valid = type.ValueKind == JsonValueKind.String
                && (type.ValueEquals("auto") || type.ValueEquals("any") || type.ValueEquals("none")
                    || (type.ValueEquals("tool") && choice.TryGetValue("name", out var name) && name.ValueKind == JsonValueKind.String));
            if (!valid)
            {
                error = TranslationError.InvalidValue("tool_choice", "tool_choice: type must be 'auto', 'any', 'none', or 'tool' with a name.");
                return false;
            }
        }

        return true;
    }

    private static void WriteSystem(Utf8JsonWriter writer, JsonElement root)
    {
        if (!root.TryGetValue("system", out var system) || (system.ValueKind == JsonValueKind.String && system.ValueEquals("")))
        {
            return;
        }

        var blocks = system.ValueKind == JsonValueKind.Array ? system.EnumerateArray().ToList() : [system];
        if (blocks.Count == 0)
        {
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("role"u8, "system"u8);
        writer.WritePropertyName("content"u8);
        WriteContentValue(writer, blocks);
        writer.WriteEndObject();
    }

    private static bool TryWriteMessage(Utf8JsonWriter writer, JsonElement message, string param, [NotNullWhen(false)] out TranslationError? error)
    {
        error = null;
        if (message.ValueKind != JsonValueKind.Object)
        {
            error = TranslationError.InvalidType(param, "an object");
            return false;
        }

        var role = message.TryGetValue("role", out var roleElement) && roleElement.ValueKind == JsonValueKind.String ? roleElement : default;
        var isUser = role.ValueKind == JsonValueKind.String && role.ValueEquals("user");
        if (!isUser && !(role.ValueKind == JsonValueKind.String && role.ValueEquals("assistant")))
        {
            error = TranslationError.InvalidValue($"{param}.role", $"{param}.role: must be 'user' or 'assistant'.");
            return false;
        }

        if (!message.TryGetValue("content", out var content) || content.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            error = TranslationError.InvalidType($"{param}.content", "a string or an array of content blocks");
            return false;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            writer.WriteStartObject();
            writer.WriteString("role"u8, isUser ? "user"u8 : "assistant"u8);
            writer.WritePropertyName("content"u8);
            content.WriteTo(writer);
            writer.WriteEndObject();
            return true;
        }

        return isUser ? TryWriteUser(writer, content, param, out error) : TryWriteAssistant(writer, content, param, out error);
    }

    private static bool TryWriteUser(Utf8JsonWriter writer, JsonElement content, string param, [NotNullWhen(false)] out TranslationError? error)
    {
        error = null;
        var parts = new List<JsonElement>();
        var index = 0;
        // Tool results go first, as tool messages: OpenAI requires them right after the assistant's tool_calls.
        foreach (var block in content.EnumerateArray())
        {
            var blockParam = $"{param}.content[{index++}]";
            var type = BlockType(block);
            if (type.ValueKind != JsonValueKind.String)
            {
                error = TranslationError.Missing($"{blockParam}.type");
                return false;
            }

            if (type.ValueEquals("tool_result"))
            {
                if (!TryWriteToolResult(writer, block, blockParam, out error))
                {
                    return false;
                }
            }
            else if (type.ValueEquals("text") || type.ValueEquals("image"))
            {
                if (!TryValidatePart(block, type, blockParam, out error))
                {
                    return false;
                }

                parts.Add(block);
            }
            else
            {
                error = TranslationError.Unsupported($"{blockParam}.type", $"{blockParam}.type: '{type.GetString()}' blocks are only available on Anthropic deployments.");
                return false;
            }
        }

        if (parts.Count > 0)
        {
            writer.WriteStartObject();
            writer.WriteString("role"u8, "user"u8);
            writer.WritePropertyName("content"u8);
            WriteContentValue(writer, parts);
            writer.WriteEndObject();
        }

        return true;
    }

    private static bool TryWriteToolResult(Utf8JsonWriter writer, JsonElement block, string param, [NotNullWhen(false)] out TranslationError? error)
    {
        error = null;
        if (!block.TryGetValue("tool_use_id", out var toolUseId) || toolUseId.ValueKind != JsonValueKind.String)
        {
            error = TranslationError.Missing($"{param}.tool_use_id");
            return false;
        }

        var texts = new List<JsonElement>();
        if (block.TryGetValue("content", out var content))
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                texts.Add(content);
            }
            else if (content.ValueKind == JsonValueKind.Array)
            {
                var index = 0;
                foreach (var part in content.EnumerateArray())
                {
                    var partParam = $"{param}.content[{index++}]";
                    var type = BlockType(part);
                    if (!(type.ValueKind == JsonValueKind.String && type.ValueEquals("text")))
                    {
                        // OpenAI tool messages carry text only; an image result cannot be represented.
                        error = TranslationError.Unsupported($"{partParam}.type", $"{partParam}.type: tool results sent to this model may only contain text.");
                        return false;
                    }

                    if (!TryValidatePart(part, type, partParam, out error))
                    {
                        return false;
                    }

                    texts.Add(part);
                }
            }
            else
            {
                error = TranslationError.InvalidType($"{param}.content", "a string or an array of text blocks");
                return false;
            }
        }

        // is_error has no OpenAI equivalent; the result text is what the model reads either way.
        writer.WriteStartObject();
        writer.WriteString("role"u8, "tool"u8);
        writer.WritePropertyName("tool_call_id"u8);
        toolUseId.WriteTo(writer);
        writer.WritePropertyName("content"u8);
        if (texts.Count == 0)
        {
            writer.WriteStringValue(""u8);
        }
        else
        {
            WriteContentValue(writer, texts);
        }

        writer.WriteEndObject();
        return true;
    }

    private static bool TryWriteAssistant(Utf8JsonWriter writer, JsonElement content, string param, [NotNullWhen(false)] out TranslationError? error)
    {
        error = null;
        var texts = new List<JsonElement>();
        var toolUses = new List<JsonElement>();
        var index = 0;
        foreach (var block in content.EnumerateArray())
        {
            var blockParam = $"{param}.content[{index++}]";
            var type = BlockType(block);
            if (type.ValueKind != JsonValueKind.String)
            {
                error = TranslationError.Missing($"{blockParam}.type");
                return false;
            }

            if (type.ValueEquals("text"))
            {
                if (!TryValidatePart(block, type, blockParam, out error))
                {
                    return false;
                }

                texts.Add(block);
            }
            else if (type.ValueEquals("tool_use"))
            {
                if (!block.TryGetValue("id", out var id) || id.ValueKind != JsonValueKind.String
                    || !block.TryGetValue("name", out var name) || name.ValueKind != JsonValueKind.String)
                {
                    error = TranslationError.Missing($"{blockParam}.id");
                    return false;
                }

                if (block.TryGetValue("input", out var input) && input.ValueKind != JsonValueKind.Object)
                {
                    error = TranslationError.InvalidType($"{blockParam}.input", "an object");
                    return false;
                }

                toolUses.Add(block);
            }
            else if (!(type.ValueEquals("thinking") || type.ValueEquals("redacted_thinking")))
            {
                // Thinking blocks are dropped (other models cannot verify their signatures); anything else is Anthropic-only.
                error = TranslationError.Unsupported($"{blockParam}.type", $"{blockParam}.type: '{type.GetString()}' blocks are only available on Anthropic deployments.");
                return false;
            }
        }

        writer.WriteStartObject();
        writer.WriteString("role"u8, "assistant"u8);
        writer.WritePropertyName("content"u8);
        if (texts.Count > 0)
        {
            WriteContentValue(writer, texts);
        }
        else if (toolUses.Count > 0)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(""u8);
        }

        if (toolUses.Count > 0)
        {
            writer.WriteStartArray("tool_calls"u8);
            foreach (var toolUse in toolUses)
            {
                writer.WriteStartObject();
                writer.WritePropertyName("id"u8);
                toolUse.GetProperty("id").WriteTo(writer);
                writer.WriteString("type"u8, "function"u8);
                writer.WriteStartObject("function"u8);
                writer.WritePropertyName("name"u8);
                toolUse.GetProperty("name").WriteTo(writer);
                writer.WritePropertyName("arguments"u8);
                if (toolUse.TryGetValue("input", out var input))
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

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        return true;
    }

    private static bool TryValidatePart(JsonElement block, JsonElement type, string param, [NotNullWhen(false)] out TranslationError? error)
    {
        error = null;
        if (type.ValueEquals("text"))
        {
            if (!block.TryGetValue("text", out var text) || text.ValueKind != JsonValueKind.String)
            {
                error = TranslationError.InvalidType($"{param}.text", "a string");
                return false;
            }

            return true;
        }

        if (!block.TryGetValue("source", out var source) || source.ValueKind != JsonValueKind.Object
            || !source.TryGetValue("type", out var sourceType) || sourceType.ValueKind != JsonValueKind.String)
        {
            error = TranslationError.Missing($"{param}.source.type");
            return false;
        }

        if (sourceType.ValueEquals("base64"))
        {
            if (!(source.TryGetValue("media_type", out var mediaType) && mediaType.ValueKind == JsonValueKind.String
                && source.TryGetValue("data", out var data) && data.ValueKind == JsonValueKind.String))
            {
                error = TranslationError.Missing($"{param}.source.data");
                return false;
            }

            return true;
        }

        if (sourceType.ValueEquals("url"))
        {
            if (!(source.TryGetValue("url", out var url) && url.ValueKind == JsonValueKind.String))
            {
                error = TranslationError.Missing($"{param}.source.url");
                return false;
            }

            return true;
        }

        error = TranslationError.Unsupported($"{param}.source.type", $"{param}.source.type: only 'base64' and 'url' images can be sent to this model.");
        return false;
    }

    /// <summary>
    /// One text block becomes a plain string (what every OpenAI-compatible server accepts); anything else
    /// becomes an array of content parts so block boundaries and images survive.
    /// </summary>
    private static void WriteContentValue(Utf8JsonWriter writer, List<JsonElement> blocks)
    {
        if (blocks.Count == 1 && blocks[0].ValueKind == JsonValueKind.String)
        {
            blocks[0].WriteTo(writer);
            return;
        }

        if (blocks.Count == 1 && IsType(blocks[0], "text"))
        {
            blocks[0].GetProperty("text").WriteTo(writer);
            return;
        }

        writer.WriteStartArray();
        foreach (var block in blocks)
        {
            writer.WriteStartObject();
            if (IsType(block, "text"))
            {
                writer.WriteString("type"u8, "text"u8);
                writer.WritePropertyName("text"u8);
                block.GetProperty("text").WriteTo(writer);
            }
            else
            {
                var source = block.GetProperty("source");
                writer.WriteString("type"u8, "image_url"u8);
                writer.WriteStartObject("image_url"u8);
                if (source.GetProperty("type").ValueEquals("base64"))
                {
                    writer.WriteString("url"u8, $"data:{source.GetProperty("media_type").GetString()};base64,{source.GetProperty("data").GetString()}");
                }
                else
                {
                    writer.WritePropertyName("url"u8);
                    source.GetProperty("url").WriteTo(writer);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteTools(Utf8JsonWriter writer, JsonElement tools)
    {
        writer.WriteStartArray("tools"u8);
        foreach (var tool in tools.EnumerateArray())
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "function"u8);
            writer.WriteStartObject("function"u8);
            writer.WritePropertyName("name"u8);
            tool.GetProperty("name").WriteTo(writer);
            if (tool.TryGetValue("description", out var description))
            {
                writer.WritePropertyName("description"u8);
                description.WriteTo(writer);
            }

            writer.WritePropertyName("parameters"u8);
            tool.GetProperty("input_schema").WriteTo(writer);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteToolChoice(Utf8JsonWriter writer, JsonElement choice)
    {
        var type = choice.GetProperty("type");
        writer.WritePropertyName("tool_choice"u8);
        if (type.ValueEquals("any"))
        {
            writer.WriteStringValue("required"u8);
        }
        else if (type.ValueEquals("none"))
        {
            writer.WriteStringValue("none"u8);
        }
        else if (type.ValueEquals("tool"))
        {
            writer.WriteStartObject();
            writer.WriteString("type"u8, "function"u8);
            writer.WriteStartObject("function"u8);
            writer.WritePropertyName("name"u8);
            choice.GetProperty("name").WriteTo(writer);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteStringValue("auto"u8);
        }

        if (choice.TryGetValue("disable_parallel_tool_use", out var disable) && disable.ValueKind == JsonValueKind.True && !type.ValueEquals("none"))
        {
            writer.WriteBoolean("parallel_tool_calls"u8, false);
        }
    }

    private static JsonElement BlockType(JsonElement block) =>
        block.ValueKind == JsonValueKind.Object && block.TryGetValue("type", out var type) && type.ValueKind == JsonValueKind.String ? type : default;

    private static bool IsType(JsonElement block, string type) => BlockType(block) is { ValueKind: JsonValueKind.String } value && value.ValueEquals(type);

    private static bool IsTextOnly(JsonElement system)
    {
        if (system.ValueKind == JsonValueKind.String)
        {
            return true;
        }

        if (system.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var block in system.EnumerateArray())
        {
            if (!(IsType(block, "text") && block.TryGetValue("text", out var text) && text.ValueKind == JsonValueKind.String))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsStringArray(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                return false;
            }
        }

        return true;
    }
}
