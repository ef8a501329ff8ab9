using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace AiGateway.Providers.Anthropic;

/// <summary>
/// Translates an OpenAI chat completions request into an Anthropic Messages request
/// (<c>POST /v1/messages</c>). Which parameters are mapped, dropped or rejected is documented in
/// this folder's README.md; keep the two in step.
/// </summary>
internal static class AnthropicRequestTranslator
{
    private static readonly string[] s_imageMediaTypes = ["image/jpeg", "image/png", "image/gif", "image/webp"];

    /// <summary>Translates <paramref name="openAIRequest"/> into <paramref name="destination"/>.</summary>
    /// <param name="openAIRequest">The client's request body as received (UTF-8 JSON).</param>
    /// <param name="upstreamModel">The deployment's Anthropic model id; replaces the client's public name.</param>
    /// <param name="defaultMaxTokens">The catalog default, used when the client sets no token limit (Anthropic requires one).</param>
    /// <param name="destination">Receives the Anthropic body. On failure it may hold a partial body; discard it.</param>
    /// <param name="request">What the response translator needs to know (stream, include_usage).</param>
    /// <param name="error">The 400 to return to the client when the request cannot be translated.</param>
    public static bool TryTranslate(
        ReadOnlyMemory<byte> openAIRequest,
        string upstreamModel,
        int defaultMaxTokens,
        IBufferWriter<byte> destination,
        out TranslatedRequest request,
        [NotNullWhen(false)] out TranslationError? error)
    {
        request = default;
        if (!TranslationJson.TryParse(openAIRequest, out var document))
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

            if (!TryRejectUnsupported(root, out error)
                || !TryReadMaxTokens(root, defaultMaxTokens, out var maxTokens, out error)
                || !TryReadBoolean(root, "stream", out var stream, out error)
                || !TryReadIncludeUsage(root, out var includeUsage, out error)
                || !TryReadMessages(root, out var messages, out var systemTexts, out error)
                || !TryReadSampling(root, "temperature", out var temperature, out error)
                || !TryReadSampling(root, "top_p", out var topP, out error)
                || !TryReadStop(root, out var stop, out error)
                || !TryReadUser(root, out var user, out error)
                || !TryReadTools(root, out var tools, out error)
                || !TryReadToolChoice(root, out var toolChoice, out error)
                || !TryReadBoolean(root, "parallel_tool_calls", out var parallelToolCallsSet, out error, defaultValue: true))
            {
                return false;
            }

            using var writer = new Utf8JsonWriter(destination, TranslationJson.WriterOptions);
            writer.WriteStartObject();
            writer.WriteString("model"u8, upstreamModel);
            writer.WriteNumber("max_tokens"u8, maxTokens);
            WriteSystem(writer, systemTexts);
            if (!TryWriteMessages(writer, messages, out error))
            {
                return false;
            }

            if (user is { } userId)
            {
                writer.WriteStartObject("metadata"u8);
                writer.WritePropertyName("user_id"u8);
                userId.WriteTo(writer);
                writer.WriteEndObject();
            }

            if (stop is { } stopValue)
            {
                writer.WritePropertyName("stop_sequences"u8);
                if (stopValue.ValueKind == JsonValueKind.String)
                {
                    writer.WriteStartArray();
                    stopValue.WriteTo(writer);
                    writer.WriteEndArray();
                }
                else
                {
                    stopValue.WriteTo(writer);
                }
            }

            if (stream)
            {
                writer.WriteBoolean("stream"u8, true);
            }

            WriteNumber(writer, "temperature", temperature);
            WriteNumber(writer, "top_p", topP);

            // Without tools there is nothing to choose from; OpenAI clients often send tool_choice regardless.
            if (tools is { } toolArray)
            {
                WriteTools(writer, toolArray);
                WriteToolChoice(writer, toolChoice, disableParallelToolUse: !parallelToolCallsSet);
            }

            writer.WriteEndObject();
            writer.Flush();
            request = new TranslatedRequest(stream, stream && includeUsage);
            error = null;
            return true;
        }
    }

    private static bool TryRejectUnsupported(JsonElement root, [NotNullWhen(false)] out TranslationError? error)
    {
        error = null;
        if (root.TryGetValue("n", out var n) && !(n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var count) && count == 1))
        {
            error = TranslationError.Unsupported("n", "'n' must be 1: Anthropic models return a single choice.");
        }
        else if (root.TryGetValue("logprobs", out var logprobs) && logprobs.ValueKind != JsonValueKind.False)
        {
            error = TranslationError.Unsupported("logprobs", "'logprobs' is not supported by Anthropic models.");
        }
        else if (root.TryGetValue("top_logprobs", out _))
        {
            error = TranslationError.Unsupported("top_logprobs", "'top_logprobs' is not supported by Anthropic models.");
        }
        else if (root.TryGetValue("response_format", out var format)
            && !(format.ValueKind == JsonValueKind.Object && format.TryGetValue("type", out var formatType) && formatType.ValueKind == JsonValueKind.String && formatType.ValueEquals("text")))
        {
            error = TranslationError.Unsupported("response_format", "'response_format' other than 'text' is not supported by Anthropic models; describe the JSON shape in the prompt or use a tool.");
        }
        else if (root.TryGetValue("audio", out _))
        {
            error = TranslationError.Unsupported("audio", "'audio' output is not supported by Anthropic models.");
        }
        else if (root.TryGetValue("modalities", out var modalities) && !IsTextOnly(modalities))
        {
            error = TranslationError.Unsupported("modalities", "'modalities' may only contain 'text' for Anthropic models.");
        }
        else if (root.TryGetValue("functions", out _) || root.TryGetValue("function_call", out _))
        {
            var param = root.TryGetValue("functions", out _) ? "functions" : "function_call";
            error = TranslationError.Unsupported(param, $"'{param}' is deprecated; use 'tools' and 'tool_choice'.");
        }
        else if (root.TryGetValue("web_search_options", out _))
        {
            error = TranslationError.Unsupported("web_search_options", "'web_search_options' is not supported by Anthropic models.");
        }

        if (error is not null)
        {
            return false;
        }

        return true;

        static bool IsTextOnly(JsonElement modalities)
        {
            if (modalities.ValueKind != JsonValueKind.Array)
            {
                return false;
            }

            foreach (var modality in modalities.EnumerateArray())
            {
                if (!(modality.ValueKind == JsonValueKind.String && modality.ValueEquals("text")))
                {
                    return false;
                }
            }

            return true;
        }
    }

    private static bool TryReadMaxTokens(JsonElement root, int defaultMaxTokens, out int maxTokens, [NotNullWhen(false)] out TranslationError? error)
    {
        // max_completion_tokens supersedes the deprecated max_tokens in OpenAI's API, so it wins.
        foreach (var name in (ReadOnlySpan<string>)["max_completion_tokens", "max_tokens"])
        {
            if (root.TryGetValue(name, out var value))
            {
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out maxTokens) || maxTokens < 1)
                {
                    maxTokens = 0;
                    error = TranslationError.InvalidType(name, "a positive integer");
                    return false;
                }

                error = null;
                return true;
            }
        }

        maxTokens = defaultMaxTokens;
        error = null;
        return true;
    }

    private static bool TryReadBoolean(JsonElement root, string name, out bool value, [NotNullWhen(false)] out TranslationError? error, bool defaultValue = false)
    {
        value = defaultValue;
        error = null;
        if (!root.TryGetValue(name, out var element))
        {
            return true;
        }

        if (element.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            error = TranslationError.InvalidType(name, "a boolean");
            return false;
        }

        value = element.GetBoolean();
        return true;
    }

    private static bool TryReadIncludeUsage(JsonElement root, out bool includeUsage, [NotNullWhen(false)] out TranslationError? error)
    {
        includeUsage = false;
        error = null;
        if (!root.TryGetValue("stream_options", out var options))
        {
            return true;
        }

        if (options.ValueKind != JsonValueKind.Object)
        {
            error = TranslationError.InvalidType("stream_options", "an object");
            return false;
        }

        if (!TryReadBoolean(options, "include_usage", out includeUsage, out error))
        {
            error = TranslationError.InvalidType("stream_options.include_usage", "a boolean");
            return false;
        }

        return true;
    }

    private static bool TryReadSampling(JsonElement root, string name, out JsonElement? value, [NotNullWhen(false)] out TranslationError? error)
    {
        value = null;
        error = null;
        if (!root.TryGetValue(name, out var element))
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.Number)
        {
            error = TranslationError.InvalidType(name, "a number");
            return false;
        }

        // OpenAI accepts temperature up to 2, Anthropic up to 1; rescaling would silently change sampling.
        var number = element.GetDouble();
        if (number is < 0 or > 1)
        {
            error = TranslationError.InvalidValue(name, $"'{name}' must be between 0 and 1 for Anthropic models.");
            return false;
        }

        value = element;
        return true;
    }

    private static bool TryReadStop(JsonElement root, out JsonElement? stop, [NotNullWhen(false)] out TranslationError? error)
    {
        stop = null;
        error = null;
        if (!root.TryGetValue("stop", out var element))
        {
            return true;
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            stop = element;
            return true;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            error = TranslationError.InvalidType("stop", "a string or an array of strings");
            return false;
        }

        foreach (var sequence in element.EnumerateArray())
        {
            if (sequence.ValueKind != JsonValueKind.String)
            {
                error = TranslationError.InvalidType("stop", "a string or an array of strings");
                return false;
            }
        }

        stop = element.GetArrayLength() > 0 ? element : null;
        return true;
    }

    private static bool TryReadUser(JsonElement root, out JsonElement? user, [NotNullWhen(false)] out TranslationError? error)
    {
        user = null;
        error = null;
        // safety_identifier is OpenAI's successor to user; either identifies the end user to the provider.
        foreach (var name in (ReadOnlySpan<string>)["user", "safety_identifier"])
        {
            if (root.TryGetValue(name, out var element))
            {
                if (element.ValueKind != JsonValueKind.String)
                {
                    error = TranslationError.InvalidType(name, "a string");
                    return false;
                }

                user ??= element;
            }
        }

        return true;
    }

    private static bool TryReadTools(JsonElement root, out JsonElement? tools, [NotNullWhen(false)] out TranslationError? error)
    {
        tools = null;
        error = null;
        if (!root.TryGetValue("tools", out var element))
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            error = TranslationError.InvalidType("tools", "an array");
            return false;
        }

        var index = 0;
        foreach (var tool in element.EnumerateArray())
        {
            var param = $"tools[{index}]";
            if (tool.ValueKind != JsonValueKind.Object)
            {
                error = TranslationError.InvalidType(param, "an object");
                return false;
            }

            if (!tool.TryGetValue("type", out var type) || type.ValueKind != JsonValueKind.String || !type.ValueEquals("function"))
            {
                error = TranslationError.Unsupported($"{param}.type", $"'{param}.type' must be 'function'.");
                return false;
            }

            if (!tool.TryGetValue("function", out var function) || function.ValueKind != JsonValueKind.Object)
            {
                error = TranslationError.InvalidType($"{param}.function", "an object");
                return false;
            }

            if (!function.TryGetValue("name", out var name) || name.ValueKind != JsonValueKind.String)
            {
                error = TranslationError.Missing($"{param}.function.name");
                return false;
            }

            if (function.TryGetValue("description", out var description) && description.ValueKind != JsonValueKind.String)
            {
                error = TranslationError.InvalidType($"{param}.function.description", "a string");
                return false;
            }

            if (function.TryGetValue("parameters", out var parameters) && parameters.ValueKind != JsonValueKind.Object)
            {
                error = TranslationError.InvalidType($"{param}.function.parameters", "an object");
                return false;
            }

            index++;
        }

        tools = index > 0 ? element : null;
        return true;
    }

    private static bool TryReadToolChoice(JsonElement root, out JsonElement? toolChoice, [NotNullWhen(false)] out TranslationError? error)
    {
        toolChoice = null;
        error = null;
        if (!root.TryGetValue("tool_choice", out var element))
        {
            return true;
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            if (element.ValueEquals("auto") || element.ValueEquals("none") || element.ValueEquals("required"))
            {
                toolChoice = element;
                return true;
            }

            error = TranslationError.InvalidValue("tool_choice", "'tool_choice' must be 'auto', 'none', 'required' or a named function.");
            return false;
        }

        if (element.ValueKind == JsonValueKind.Object
            && element.TryGetValue("type", out var type) && type.ValueKind == JsonValueKind.String && type.ValueEquals("function")
            && element.TryGetValue("function", out var function) && function.ValueKind == JsonValueKind.Object
            && function.TryGetValue("name", out var name) && name.ValueKind == JsonValueKind.String)
        {
            toolChoice = element;
            return true;
        }

        error = TranslationError.InvalidValue("tool_choice", "'tool_choice' must be 'auto', 'none', 'required' or a named function.");
        return false;
    }

    private static bool TryReadMessages(JsonElement root, out JsonElement messages, out List<JsonElement> systemTexts, [NotNullWhen(false)] out TranslationError? error)
    {
        systemTexts = [];
        if (!root.TryGetValue("messages", out messages))
        {
            error = TranslationError.Missing("messages");
            return false;
        }

        if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            error = TranslationError.InvalidType("messages", "a non-empty array");
            return false;
        }

        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (!TryReadRole(message, index, out var role, out error))
            {
                return false;
            }

            if (role == Role.System && !TryCollectText(message, $"messages[{index}]", systemTexts, out error))
            {
                return false;
            }

            index++;
        }

        error = null;
        return true;
    }

    private static bool TryReadRole(JsonElement message, int index, out Role role, [NotNullWhen(false)] out TranslationError? error)
    {
        role = default;
        error = null;
        if (message.ValueKind != JsonValueKind.Object)
        {
            error = TranslationError.InvalidType($"messages[{index}]", "an object");
            return false;
        }

        if (!message.TryGetValue("role", out var element) || element.ValueKind != JsonValueKind.String)
        {
            error = TranslationError.Missing($"messages[{index}].role");
            return false;
        }

        if (element.ValueEquals("user"))
        {
            role = Role.User;
        }
        else if (element.ValueEquals("assistant"))
        {
            role = Role.Assistant;
        }
        else if (element.ValueEquals("tool"))
        {
            role = Role.Tool;
        }
        else if (element.ValueEquals("system") || element.ValueEquals("developer"))
        {
            role = Role.System;
        }
        else if (element.ValueEquals("function"))
        {
            error = TranslationError.Unsupported($"messages[{index}].role", $"'messages[{index}].role' 'function' is deprecated; use 'tool' messages.");
            return false;
        }
        else
        {
            error = TranslationError.InvalidValue($"messages[{index}].role", $"'messages[{index}].role' must be 'system', 'developer', 'user', 'assistant' or 'tool'.");
            return false;
        }

        return true;
    }

    /// <summary>Collects the text of a message whose content may only be text (system, developer).</summary>
    private static bool TryCollectText(JsonElement message, string param, List<JsonElement> texts, [NotNullWhen(false)] out TranslationError? error)
    {
        error = null;
        if (!message.TryGetValue("content", out var content))
        {
            error = TranslationError.Missing($"{param}.content");
            return false;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            if (!content.ValueEquals(""))
            {
                texts.Add(content);
            }

            return true;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            error = TranslationError.InvalidType($"{param}.content", "a string or an array of content parts");
            return false;
        }

        var index = 0;
        foreach (var part in content.EnumerateArray())
        {
            if (!TryReadTextPart(part, $"{param}.content[{index}]", out var text, out error))
            {
                return false;
            }

            if (!text.ValueEquals(""))
            {
                texts.Add(text);
            }

            index++;
        }

        return true;
    }

    private static bool TryReadTextPart(JsonElement part, string param, out JsonElement text, [NotNullWhen(false)] out TranslationError? error)
    {
        text = default;
        error = null;
        if (part.ValueKind != JsonValueKind.Object || !part.TryGetValue("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            error = TranslationError.Missing($"{param}.type");
            return false;
        }

        if (!type.ValueEquals("text"))
        {
            error = TranslationError.Unsupported($"{param}.type", $"'{param}.type' must be 'text' here.");
            return false;
        }

        if (!part.TryGetValue("text", out text) || text.ValueKind != JsonValueKind.String)
        {
            error = TranslationError.InvalidType($"{param}.text", "a string");
            return false;
        }

        return true;
    }

    private static void WriteSystem(Utf8JsonWriter writer, List<JsonElement> systemTexts)
    {
        // One segment stays a plain string (the common case, and the most readable upstream body);
        // several become text blocks so their boundaries survive.
        if (systemTexts.Count == 1)
        {
            writer.WritePropertyName("system"u8);
            systemTexts[0].WriteTo(writer);
        }
        else if (systemTexts.Count > 1)
        {
            writer.WriteStartArray("system"u8);
            foreach (var text in systemTexts)
            {
                WriteTextBlock(writer, text);
            }

            writer.WriteEndArray();
        }
    }

    private static bool TryWriteMessages(Utf8JsonWriter writer, JsonElement messages, [NotNullWhen(false)] out TranslationError? error)
    {
        writer.WriteStartArray("messages"u8);
        string? turnRole = null;
        var turnStart = -1;
        var turnBlocks = 0;
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            TryReadRole(message, index, out var role, out _);
            if (role != Role.System)
            {
                // Anthropic wants strictly alternating turns, so same-role neighbours (including tool
                // results next to user text) are merged into one turn.
                var anthropicRole = role == Role.Assistant ? "assistant" : "user";
                if (anthropicRole != turnRole)
                {
                    if (turnRole is not null && !TryEndTurn(writer, turnStart, turnBlocks, out error))
                    {
                        return false;
                    }

                    writer.WriteStartObject();
                    writer.WriteString("role"u8, anthropicRole);
                    writer.WriteStartArray("content"u8);
                    turnRole = anthropicRole;
                    turnStart = index;
                    turnBlocks = 0;
                }

                var param = $"messages[{index}]";
                TranslationError? contentError;
                var written = role switch
                {
                    Role.User => TryWriteUserContent(writer, message, param, ref turnBlocks, out contentError),
                    Role.Assistant => TryWriteAssistantContent(writer, message, param, ref turnBlocks, out contentError),
                    _ => TryWriteToolResult(writer, message, param, ref turnBlocks, out contentError),
                };
                if (!written)
                {
                    error = contentError!;
                    return false;
                }
            }

            index++;
        }

        if (turnRole is null)
        {
            error = TranslationError.InvalidValue("messages", "'messages' must contain at least one user, assistant or tool message.");
            return false;
        }

        if (!TryEndTurn(writer, turnStart, turnBlocks, out error))
        {
            return false;
        }

        writer.WriteEndArray();
        return true;
    }

    private static bool TryEndTurn(Utf8JsonWriter writer, int turnStart, int turnBlocks, [NotNullWhen(false)] out TranslationError? error)
    {
        if (turnBlocks == 0)
        {
            // Anthropic rejects empty turns; say which message was empty rather than let it fail upstream.
            error = TranslationError.InvalidValue($"messages[{turnStart}].content", $"'messages[{turnStart}].content' is empty; Anthropic requires content in every turn.");
            return false;
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        error = null;
        return true;
    }

    private static bool TryWriteUserContent(Utf8JsonWriter writer, JsonElement message, string param, ref int blocks, [NotNullWhen(false)] out TranslationError? error)
    {
        error = null;
        if (!message.TryGetValue("content", out var content))
        {
            error = TranslationError.Missing($"{param}.content");
            return false;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            WriteTextBlockIfNotEmpty(writer, content, ref blocks);
            return true;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            error = TranslationError.InvalidType($"{param}.content", "a string or an array of content parts");
            return false;
        }

        var index = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partParam = $"{param}.content[{index}]";
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetValue("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                error = TranslationError.Missing($"{partParam}.type");
                return false;
            }

            if (type.ValueEquals("text"))
            {
                if (!TryReadTextPart(part, partParam, out var text, out error))
                {
                    return false;
                }

                WriteTextBlockIfNotEmpty(writer, text, ref blocks);
            }
            else if (type.ValueEquals("image_url"))
            {
                if (!TryWriteImageBlock(writer, part, partParam, out error))
                {
                    return false;
                }

                blocks++;
            }
            else
            {
                error = TranslationError.Unsupported($"{partParam}.type", $"'{partParam}.type' must be 'text' or 'image_url' for Anthropic models.");
                return false;
            }

            index++;
        }

        return true;
    }

    private static bool TryWriteImageBlock(Utf8JsonWriter writer, JsonElement part, string param, [NotNullWhen(false)] out TranslationError? error)
    {
        error = null;
        if (!part.TryGetValue("image_url", out var imageUrl) || imageUrl.ValueKind != JsonValueKind.Object
            || !imageUrl.TryGetValue("url", out var urlElement) || urlElement.ValueKind != JsonValueKind.String)
        {
            error = TranslationError.Missing($"{param}.image_url.url");
            return false;
        }

        var url = urlElement.GetString()!;
        writer.WriteStartObject();
        writer.WriteString("type"u8, "image"u8);
        writer.WriteStartObject("source"u8);
        if (url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            // data:<media type>;base64,<data> is the only inline form Anthropic can take.
            var comma = url.IndexOf(',', StringComparison.Ordinal);
            var header = comma < 0 ? "" : url[5..comma];
            if (!header.EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
            {
                error = TranslationError.InvalidValue($"{param}.image_url.url", $"'{param}.image_url.url' must be a base64 data URL or an http(s) URL.");
                return false;
            }

            var mediaType = header[..^";base64".Length].ToLowerInvariant();
            if (Array.IndexOf(s_imageMediaTypes, mediaType) < 0)
            {
                error = TranslationError.Unsupported($"{param}.image_url.url", $"'{param}.image_url.url' media type must be image/jpeg, image/png, image/gif or image/webp.");
                return false;
            }

            writer.WriteString("type"u8, "base64"u8);
            writer.WriteString("media_type"u8, mediaType);
            writer.WriteString("data"u8, url.AsSpan(comma + 1));
        }
        else if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            writer.WriteString("type"u8, "url"u8);
            writer.WriteString("url"u8, url);
        }
        else
        {
            error = TranslationError.InvalidValue($"{param}.image_url.url", $"'{param}.image_url.url' must be a base64 data URL or an http(s) URL.");
            return false;
        }

        // image_url.detail has no Anthropic equivalent and is dropped.
        writer.WriteEndObject();
        writer.WriteEndObject();
        return true;
    }

    private static bool TryWriteAssistantContent(Utf8JsonWriter writer, JsonElement message, string param, ref int blocks, [NotNullWhen(false)] out TranslationError? error)
    {
        error = null;
        if (message.TryGetValue("content", out var content))
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                WriteTextBlockIfNotEmpty(writer, content, ref blocks);
            }
            else if (content.ValueKind == JsonValueKind.Array)
            {
                var index = 0;
                foreach (var part in content.EnumerateArray())
                {
                    var partParam = $"{param}.content[{index}]";
                    // A refusal the model gave earlier is still what it said; replay it as text.
                    var field = part.ValueKind == JsonValueKind.Object && part.TryGetValue("type", out var type) && type.ValueKind == JsonValueKind.String
                        ? type.ValueEquals("text") ? "text" : type.ValueEquals("refusal") ? "refusal" : null
                        : null;
                    if (field is null)
                    {
                        error = TranslationError.Unsupported($"{partParam}.type", $"'{partParam}.type' must be 'text' or 'refusal'.");
                        return false;
                    }

                    if (!part.TryGetValue(field, out var text) || text.ValueKind != JsonValueKind.String)
                    {
                        error = TranslationError.InvalidType($"{partParam}.{field}", "a string");
                        return false;
                    }

                    WriteTextBlockIfNotEmpty(writer, text, ref blocks);
                    index++;
                }
            }
            else
            {
                error = TranslationError.InvalidType($"{param}.content", "a string, an array of content parts or null");
                return false;
            }
        }

        if (!message.TryGetValue("tool_calls", out var toolCalls))
        {
            return true;
        }

        if (toolCalls.ValueKind != JsonValueKind.Array)
        {
            error = TranslationError.InvalidType($"{param}.tool_calls", "an array");
            return false;
        }

        var callIndex = 0;
        foreach (var call in toolCalls.EnumerateArray())
        {
            if (!TryWriteToolUse(writer, call, $"{param}.tool_calls[{callIndex}]", out error))
            {
                return false;
            }

            blocks++;
            callIndex++;
        }

        return true;
    }

    private static bool TryWriteToolUse(Utf8JsonWriter writer, JsonElement call, string param, [NotNullWhen(false)] out TranslationError? error)
    {
        error = null;
        if (call.ValueKind != JsonValueKind.Object)
        {
            error = TranslationError.InvalidType(param, "an object");
            return false;
        }

        if (!call.TryGetValue("id", out var id) || id.ValueKind != JsonValueKind.String)
        {
            error = TranslationError.Missing($"{param}.id");
            return false;
        }

        if (call.TryGetValue("type", out var type) && !(type.ValueKind == JsonValueKind.String && type.ValueEquals("function")))
        {
            error = TranslationError.Unsupported($"{param}.type", $"'{param}.type' must be 'function'.");
            return false;
        }

        if (!call.TryGetValue("function", out var function) || function.ValueKind != JsonValueKind.Object
            || !function.TryGetValue("name", out var name) || name.ValueKind != JsonValueKind.String)
        {
            error = TranslationError.Missing($"{param}.function.name");
            return false;
        }

        var arguments = function.TryGetValue("arguments", out var argumentsElement) ? argumentsElement : default;
        if (arguments.ValueKind is not (JsonValueKind.String or JsonValueKind.Undefined))
        {
            error = TranslationError.InvalidType($"{param}.function.arguments", "a string");
            return false;
        }

        writer.WriteStartObject();
        writer.WriteString("type"u8, "tool_use"u8);
        writer.WritePropertyName("id"u8);
        id.WriteTo(writer);
        writer.WritePropertyName("name"u8);
        name.WriteTo(writer);
        writer.WritePropertyName("input"u8);
        var text = arguments.ValueKind == JsonValueKind.String ? arguments.GetString()! : "";
        if (string.IsNullOrWhiteSpace(text))
        {
            // OpenAI sends "" for a call without arguments; Anthropic's input must be an object.
            writer.WriteStartObject();
            writer.WriteEndObject();
        }
        else
        {
            if (!TryParseObject(text, out var input))
            {
                error = TranslationError.InvalidValue($"{param}.function.arguments", $"'{param}.function.arguments' must be a JSON object.");
                return false;
            }

            using (input)
            {
                input.RootElement.WriteTo(writer);
            }
        }

        writer.WriteEndObject();
        return true;
    }

    private static bool TryParseObject(string json, [NotNullWhen(true)] out JsonDocument? document)
    {
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            document = null;
            return false;
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            document = null;
            return false;
        }

        return true;
    }

    private static bool TryWriteToolResult(Utf8JsonWriter writer, JsonElement message, string param, ref int blocks, [NotNullWhen(false)] out TranslationError? error)
    {
        error = null;
        if (!message.TryGetValue("tool_call_id", out var toolCallId) || toolCallId.ValueKind != JsonValueKind.String)
        {
            error = TranslationError.Missing($"{param}.tool_call_id");
            return false;
        }

        var texts = new List<JsonElement>();
        if (!TryCollectText(message, param, texts, out error))
        {
            return false;
        }

        writer.WriteStartObject();
        writer.WriteString("type"u8, "tool_result"u8);
        writer.WritePropertyName("tool_use_id"u8);
        toolCallId.WriteTo(writer);
        if (texts.Count == 1 && message.GetProperty("content").ValueKind == JsonValueKind.String)
        {
            writer.WritePropertyName("content"u8);
            texts[0].WriteTo(writer);
        }
        else if (texts.Count > 0)
        {
            writer.WriteStartArray("content"u8);
            foreach (var text in texts)
            {
                WriteTextBlock(writer, text);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        blocks++;
        return true;
    }

    private static void WriteTextBlockIfNotEmpty(Utf8JsonWriter writer, JsonElement text, ref int blocks)
    {
        // Anthropic rejects empty text blocks, and OpenAI clients send content "" next to tool_calls.
        if (!text.ValueEquals(""))
        {
            WriteTextBlock(writer, text);
            blocks++;
        }
    }

    private static void WriteTextBlock(Utf8JsonWriter writer, JsonElement text)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "text"u8);
        writer.WritePropertyName("text"u8);
        text.WriteTo(writer);
        writer.WriteEndObject();
    }

    private static void WriteNumber(Utf8JsonWriter writer, string name, JsonElement? value)
    {
        if (value is { } number)
        {
            writer.WritePropertyName(name);
            number.WriteTo(writer);
        }
    }

    private static void WriteTools(Utf8JsonWriter writer, JsonElement tools)
    {
        writer.WriteStartArray("tools"u8);
        foreach (var tool in tools.EnumerateArray())
        {
            var function = tool.GetProperty("function");
            writer.WriteStartObject();
            writer.WritePropertyName("name"u8);
            function.GetProperty("name").WriteTo(writer);
            if (function.TryGetValue("description", out var description))
            {
                writer.WritePropertyName("description"u8);
                description.WriteTo(writer);
            }

            // OpenAI allows omitting parameters for a no-argument function; Anthropic requires a schema.
            writer.WritePropertyName("input_schema"u8);
            if (function.TryGetValue("parameters", out var parameters))
            {
                parameters.WriteTo(writer);
            }
            else
            {
                writer.WriteStartObject();
                writer.WriteString("type"u8, "object"u8);
                writer.WriteStartObject("properties"u8);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteToolChoice(Utf8JsonWriter writer, JsonElement? toolChoice, bool disableParallelToolUse)
    {
        if (toolChoice is null && !disableParallelToolUse)
        {
            return;
        }

        writer.WriteStartObject("tool_choice"u8);
        var isNone = false;
        if (toolChoice is not { } choice || (choice.ValueKind == JsonValueKind.String && choice.ValueEquals("auto")))
        {
            writer.WriteString("type"u8, "auto"u8);
        }
        else if (choice.ValueKind == JsonValueKind.String && choice.ValueEquals("required"))
        {
            writer.WriteString("type"u8, "any"u8);
        }
        else if (choice.ValueKind == JsonValueKind.String)
        {
            writer.WriteString("type"u8, "none"u8);
            isNone = true;
        }
        else
        {
            writer.WriteString("type"u8, "tool"u8);
            writer.WritePropertyName("name"u8);
            choice.GetProperty("function").GetProperty("name").WriteTo(writer);
        }

        // Anthropic's "none" takes no such flag: with no tool calls there is nothing to parallelise.
        if (disableParallelToolUse && !isNone)
        {
            writer.WriteBoolean("disable_parallel_tool_use"u8, true);
        }

        writer.WriteEndObject();
    }

    private enum Role
    {
        System,
        User,
        Assistant,
        Tool,
    }
}
