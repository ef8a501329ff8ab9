using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AiGateway.Tokens;

/// <summary>The OpenAI request shapes whose prompt tokens can be counted.</summary>
internal enum PromptKind
{
    /// <summary><c>POST /v1/chat/completions</c>: <c>messages</c>, <c>tools</c>/<c>functions</c>.</summary>
    ChatCompletions,

    /// <summary><c>POST /v1/completions</c>: <c>prompt</c>.</summary>
    Completions,

    /// <summary><c>POST /v1/embeddings</c>: <c>input</c>.</summary>
    Embeddings,

    /// <summary>
    /// Anthropic <c>POST /v1/messages</c>: <c>system</c>, <c>messages</c>, <c>tools</c>, <c>tool_choice</c>, counted as the
    /// chat completion they translate to for an OpenAI-compatible deployment.
    /// </summary>
    Messages,
}

/// <summary>
/// The prompt tokens of a request. When part of the body has an unexpected shape, <see cref="Error"/> says which
/// (<see cref="Param"/> is the OpenAI-style path, e.g. <c>messages[2].content</c>) and <see cref="Tokens"/> holds what
/// was countable; that part counts 0.
/// </summary>
internal readonly record struct PromptTokenCount(int Tokens, string? Error = null, string? Param = null)
{
    /// <summary>True when every counted part had an expected shape.</summary>
    public bool IsValid => Error is null;
}

/// <summary>
/// Counts the prompt tokens of an OpenAI request body as the upstream will bill them. Pure: no I/O, never throws
/// on any body shape.
/// </summary>
/// <remarks>
/// <para>
/// The caller passes the request's root <see cref="JsonElement"/> — the <see cref="JsonDocument"/> it parsed once
/// for routing — so the body is not parsed again; the element must stay alive (document not disposed) during the
/// call. The <see cref="Count(TextTokenCounter, PromptKind, ReadOnlyMemory{byte})"/> overload parses raw UTF-8 for
/// callers that have nothing parsed.
/// </para>
/// <para>
/// Chat framing follows OpenAI's cookbook ("How to count tokens with tiktoken"): 3 tokens per message, every string
/// field of a message counted (role, content, name, tool_call_id, …), 1 more per <c>name</c>, 3 to prime the reply.
/// Content arrays count their text and refusal parts; image parts use <see cref="ImageTokenEstimator"/>; audio and
/// file parts count 0. Function definitions (<c>tools</c> or legacy <c>functions</c>) are rendered by
/// <see cref="ToolDefinitionFormatter"/> and cost that text plus 9; when they are present the first system message
/// gains a trailing newline and 4 tokens are taken off if any system message exists (the definitions share it).
/// An assistant's <c>tool_calls</c> / <c>function_call</c> count name and arguments plus 3 per call; a
/// <c>function</c>-role message 2 fewer. <c>tool_choice</c>/<c>function_call</c> naming a function costs its name
/// plus 4, <c>"none"</c> 1. These adjustments reproduce the API's <c>prompt_tokens</c> for the published examples;
/// for tool-heavy requests treat them as a close estimate.
/// </para>
/// <para>
/// Completions <c>prompt</c> and embeddings <c>input</c> are a string, an array of strings, an array of token ids
/// (each id one token) or an array of such arrays, with no framing.
/// </para>
/// <para>
/// An Anthropic Messages body is counted as the chat completion <c>ChatRequestTranslator</c> makes of it, without
/// writing that body: <c>system</c> (a string or text blocks) as a leading system message, <c>tools</c> as function
/// definitions, <c>tool_choice</c> as the OpenAI choice it maps to, <c>tool_use</c> blocks as tool calls whose arguments
/// are the compact JSON of <c>input</c>, <c>tool_result</c> blocks as tool messages, image blocks as <c>image_url</c>
/// parts. So the admission estimate, the context-window check and <c>count_tokens</c> agree (a test holds the count
/// equal to the translation's). Parts an Anthropic deployment takes but translation rejects still count where they are
/// text or images (images in tool results); blocks only Anthropic understands (documents, server tools) count 0. It
/// never reports a shape error: the provider judges the body.
/// </para>
/// </remarks>
internal static class PromptTokenCounter
{
    private const int TokensPerMessage = 3;
    private const int TokensPerName = 1;
    private const int ReplyPrimingTokens = 3;
    private const int FunctionDefinitionsTokens = 9;
    private const int SharedSystemMessageDiscount = 4;
    private const int TokensPerFunctionCall = 3;
    private const int FunctionRoleDiscount = 2;
    private const int NamedToolChoiceTokens = 4;
    private const int NoneToolChoiceTokens = 1;

    // An Anthropic tool_use's arguments are the compact JSON of its input, written with the escaping the translator uses.
    private static readonly JsonWriterOptions ToolArgumentsJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Counts the prompt of <paramref name="request"/>, the root of a parsed request body.</summary>
    public static PromptTokenCount Count(TextTokenCounter counter, PromptKind kind, JsonElement request)
    {
        if (request.ValueKind != JsonValueKind.Object)
        {
            return new(0, "The request body must be a JSON object.");
        }

        return kind switch
        {
            PromptKind.ChatCompletions => CountChat(counter, request),
            PromptKind.Completions => CountInput(counter, request, "prompt"),
            PromptKind.Embeddings => CountInput(counter, request, "input"),
            PromptKind.Messages => CountMessages(counter, request),
            _ => new(0, $"Unsupported prompt kind {kind}."),
        };
    }

    /// <summary>Parses <paramref name="utf8Json"/> (a whole request body) and counts its prompt.</summary>
    public static PromptTokenCount Count(TextTokenCounter counter, PromptKind kind, ReadOnlyMemory<byte> utf8Json)
    {
        try
        {
            using var document = JsonDocument.Parse(utf8Json);
            return Count(counter, kind, document.RootElement);
        }
        catch (JsonException)
        {
            return new(0, "We could not parse the JSON body of your request. The API expects a JSON payload.");
        }
    }

    /// <summary>
    /// Counts a chat completion body of the plain shape (every message an object whose members are strings, or
    /// a null <c>content</c>; no <c>tools</c>, <c>functions</c>, <c>tool_choice</c>, <c>function_call</c> or tool
    /// calls) in one <see cref="Utf8JsonReader"/> pass, without building a document, and reads the two fields the
    /// context-window check needs on the way. Returns false for any other shape, and the caller counts it through
    /// <see cref="Count(TextTokenCounter, PromptKind, JsonElement)"/>; when it returns true the figures are those.
    /// </summary>
    /// <param name="requested"><c>max_completion_tokens</c>, else <c>max_tokens</c>, as <see cref="ContextWindowGuard.ReadRequestedMaxTokens"/> reads it.</param>
    /// <param name="choices"><c>n</c>, as <see cref="ContextWindowGuard.ReadChoiceCount"/> reads it.</param>
    public static bool TryCountPlainChat(
        TextTokenCounter counter, ReadOnlySpan<byte> body, out int tokens, out RequestedMaxTokens? requested, out int choices)
    {
        tokens = 0;
        requested = null;
        choices = 1;
        long? maxCompletionTokens = null, maxTokens = null;
        bool sawMessages = false;
        long total = ReplyPrimingTokens;
        var reader = new Utf8JsonReader(body);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                // A repeated member is read last-wins by the document path: the numbers below follow that, and a
                // repeated messages array is left to it.
                if (reader.ValueTextEquals("messages"u8))
                {
                    if (sawMessages) return false;
                    sawMessages = true;
                    if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray) return false;
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (reader.TokenType != JsonTokenType.StartObject || !TryCountPlainMessage(counter, body, ref reader, out var message))
                        {
                            return false;
                        }
                        total += message;
                    }
                }
                else if (reader.ValueTextEquals("max_completion_tokens"u8))
                {
                    reader.Read();
                    maxCompletionTokens = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) ? value : null;
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("max_tokens"u8))
                {
                    reader.Read();
                    maxTokens = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) ? value : null;
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("n"u8))
                {
                    reader.Read();
                    choices = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value) && value > 0 ? value : 1;
                    // An object or array value is stepped over whole: its members are not the request's.
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("tools"u8) || reader.ValueTextEquals("functions"u8)
                    || reader.ValueTextEquals("tool_choice"u8) || reader.ValueTextEquals("function_call"u8))
                {
                    return false;
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
            return false;
        }

        // Only a pass that ended on the root's closing brace read every member of the request.
        if (reader.TokenType != JsonTokenType.EndObject || reader.CurrentDepth != 0 || !sawMessages || total > int.MaxValue) return false;
        tokens = (int)total;
        requested = maxCompletionTokens is { } mct ? new(mct, "max_completion_tokens")
            : maxTokens is { } mt ? new(mt, "max_tokens")
            : null;
        return true;
    }

    /// <summary>One message of <see cref="TryCountPlainChat"/>, the reader on its start; counted as <see cref="CountMessage"/> counts it.</summary>
    private static bool TryCountPlainMessage(TextTokenCounter counter, ReadOnlySpan<byte> body, ref Utf8JsonReader reader, out long tokens)
    {
        tokens = TokensPerMessage;
        bool sawRole = false, isFunction = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("tool_calls"u8) || reader.ValueTextEquals("function_call"u8)) return false;
            bool isContent = reader.ValueTextEquals("content"u8);
            bool isName = reader.ValueTextEquals("name"u8);
            bool isRole = reader.ValueTextEquals("role"u8);
            if (isRole)
            {
                if (sawRole) return false;
                sawRole = true;
            }
            reader.Read();
            switch (reader.TokenType)
            {
                case JsonTokenType.String:
                    tokens += counter.CountJsonString(body[(int)reader.TokenStartIndex..(int)reader.BytesConsumed]);
                    if (isName) tokens += TokensPerName;
                    if (isRole) isFunction = reader.ValueTextEquals("function"u8);
                    break;
                case JsonTokenType.Null:
                    break;
                case var _ when isContent:
                    // Content parts (or a content the document path reports as an error).
                    return false;
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    reader.Skip();
                    break;
            }
        }
        if (isFunction) tokens -= FunctionRoleDiscount;
        return true;
    }

    private static PromptTokenCount CountChat(TextTokenCounter counter, JsonElement request)
    {
        var errors = default(ErrorSlot);
        if (!request.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            return new(0, "'messages' must be an array of message objects.", "messages");
        }

        using var scratch = new PooledCharBuffer();
        bool hasFunctions = CountFunctionDefinitions(counter, request, scratch, out int functionTokens);
        bool hasSystem = false;
        long total = ReplyPrimingTokens;
        int index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object)
            {
                errors.Set(Path("messages", index), "must be a message object.");
                index++;
                continue;
            }

            bool isSystem = IsRole(message, "system") || IsRole(message, "developer");
            total += CountMessage(counter, message, index, padContent: hasFunctions && isSystem && !hasSystem, scratch, ref errors);
            hasSystem |= isSystem;
            index++;
        }

        if (hasFunctions)
        {
            total += functionTokens + FunctionDefinitionsTokens - (hasSystem ? SharedSystemMessageDiscount : 0);
        }

        total += CountToolChoice(counter, request, "tool_choice") + CountToolChoice(counter, request, "function_call");
        return errors.ToResult(total);
    }

    private static long CountMessage(
        TextTokenCounter counter, JsonElement message, int index, bool padContent, PooledCharBuffer scratch, ref ErrorSlot errors)
    {
        long tokens = TokensPerMessage;
        foreach (var property in message.EnumerateObject())
        {
            // Compared as UTF-8 in place: property.Name would allocate a string per property of every message.
            var value = property.Value;
            if (property.NameEquals("content"u8))
            {
                tokens += CountContent(counter, value, index, padContent, scratch, ref errors);
            }
            else if (property.NameEquals("name"u8) && value.ValueKind == JsonValueKind.String)
            {
                tokens += counter.CountTokens(value) + TokensPerName;
            }
            else if (property.NameEquals("tool_calls"u8))
            {
                tokens += CountToolCalls(counter, value, index, ref errors);
            }
            else if (property.NameEquals("function_call"u8) && value.ValueKind == JsonValueKind.Object)
            {
                tokens += CountFunctionCall(counter, value) + TokensPerFunctionCall;
            }
            else if (value.ValueKind == JsonValueKind.String)
            {
                tokens += counter.CountTokens(value);
            }
        }

        if (IsRole(message, "function"))
        {
            tokens -= FunctionRoleDiscount;
        }

        return tokens;
    }

    private static long CountContent(
        TextTokenCounter counter, JsonElement content, int index, bool padContent, PooledCharBuffer scratch, ref ErrorSlot errors)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String when padContent:
                scratch.Clear();
                scratch.AppendJsonString(content);
                scratch.Append('\n');
                return counter.CountTokens(scratch.WrittenSpan);
            case JsonValueKind.String:
                return counter.CountTokens(content);
            case JsonValueKind.Null:
                return 0;
            case JsonValueKind.Array:
                return CountContentParts(counter, content, index, ref errors);
            default:
                errors.Set(Path("messages", index, "content"), "must be a string, an array of content parts or null.");
                return 0;
        }
    }

    private static long CountContentParts(TextTokenCounter counter, JsonElement parts, int index, ref ErrorSlot errors)
    {
        long tokens = 0;
        int partIndex = 0;
        foreach (var part in parts.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type))
            {
                errors.Set(Path("messages", index, "content", partIndex), "must be a content part object with a 'type'.");
            }
            else if (type.ValueEquals("text") || type.ValueEquals("refusal"))
            {
                string field = type.ValueEquals("text") ? "text" : "refusal";
                if (part.TryGetProperty(field, out var text) && text.ValueKind == JsonValueKind.String)
                {
                    tokens += counter.CountTokens(text);
                }
                else
                {
                    errors.Set(Path("messages", index, "content", partIndex) + "." + field, "must be a string.");
                }
            }
            else if (type.ValueEquals("image_url"))
            {
                if (part.TryGetProperty("image_url", out var imageUrl) && ImageTokenEstimator.TryEstimate(imageUrl, out int imageTokens))
                {
                    tokens += imageTokens;
                }
                else
                {
                    errors.Set(Path("messages", index, "content", partIndex) + ".image_url", "must be a URL or an object with a 'url'.");
                }
            }

            partIndex++;
        }

        return tokens;
    }

    private static long CountToolCalls(TextTokenCounter counter, JsonElement toolCalls, int index, ref ErrorSlot errors)
    {
        if (toolCalls.ValueKind == JsonValueKind.Null)
        {
            return 0;
        }

        if (toolCalls.ValueKind != JsonValueKind.Array)
        {
            errors.Set(Path("messages", index, "tool_calls"), "must be an array of tool calls.");
            return 0;
        }

        long tokens = 0;
        foreach (var call in toolCalls.EnumerateArray())
        {
            if (call.ValueKind == JsonValueKind.Object
                && call.TryGetProperty("function", out var function)
                && function.ValueKind == JsonValueKind.Object)
            {
                tokens += CountFunctionCall(counter, function) + TokensPerFunctionCall;
            }
        }

        return tokens;
    }

    private static int CountFunctionCall(TextTokenCounter counter, JsonElement function)
    {
        int tokens = 0;
        if (function.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
        {
            tokens += counter.CountTokens(name);
        }

        if (function.TryGetProperty("arguments", out var arguments) && arguments.ValueKind == JsonValueKind.String)
        {
            tokens += counter.CountTokens(arguments);
        }

        return tokens;
    }

    private static bool CountFunctionDefinitions(
        TextTokenCounter counter, JsonElement request, PooledCharBuffer scratch, out int tokens)
    {
        scratch.Clear();
        int functions = 0;
        if (request.TryGetProperty("tools", out var tools))
        {
            functions = ToolDefinitionFormatter.Format(tools, isToolsArray: true, scratch);
        }

        if (functions == 0 && request.TryGetProperty("functions", out var legacy))
        {
            functions = ToolDefinitionFormatter.Format(legacy, isToolsArray: false, scratch);
        }

        tokens = functions > 0 ? counter.CountTokens(scratch.WrittenSpan) : 0;
        return functions > 0;
    }

    private static int CountToolChoice(TextTokenCounter counter, JsonElement request, string property)
    {
        if (!request.TryGetProperty(property, out var choice))
        {
            return 0;
        }

        if (choice.ValueKind == JsonValueKind.String)
        {
            return choice.ValueEquals("none") ? NoneToolChoiceTokens : 0;
        }

        // tool_choice: {"type":"function","function":{"name":…}}; legacy function_call: {"name":…}.
        if (choice.ValueKind == JsonValueKind.Object)
        {
            var function = choice.TryGetProperty("function", out var nested) && nested.ValueKind == JsonValueKind.Object
                ? nested
                : choice;
            if (function.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
            {
                return counter.CountTokens(name) + NamedToolChoiceTokens;
            }
        }

        return 0;
    }

    private static PromptTokenCount CountMessages(TextTokenCounter counter, JsonElement request)
    {
        using var scratch = new PooledCharBuffer();
        // The translation writes tools (and then tool_choice) only when the array has any.
        bool hasTools = request.TryGetProperty("tools", out var tools)
            && tools.ValueKind == JsonValueKind.Array
            && tools.GetArrayLength() > 0;
        bool hasFunctions = hasTools && ToolDefinitionFormatter.FormatAnthropic(tools, scratch) > 0;
        int functionTokens = hasFunctions ? counter.CountTokens(scratch.WrittenSpan) : 0;

        long total = ReplyPrimingTokens;
        bool hasSystem = CountSystem(counter, request, padContent: hasFunctions, scratch, out int systemTokens);
        total += systemTokens;
        if (request.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array)
        {
            ArrayBufferWriter<byte>? arguments = null;
            foreach (var message in messages.EnumerateArray())
            {
                total += CountAnthropicMessage(counter, message, scratch, ref arguments);
            }
        }

        if (hasFunctions)
        {
            total += functionTokens + FunctionDefinitionsTokens - (hasSystem ? SharedSystemMessageDiscount : 0);
        }

        if (hasTools)
        {
            total += CountAnthropicToolChoice(counter, request);
        }

        return new((int)Math.Min(int.MaxValue, total));
    }

    /// <summary>
    /// Counts top-level <c>system</c> as the system message it becomes: none for <c>""</c> or <c>[]</c>; a string, or one
    /// text block, as string content (padded like any first system message when tools are present); several blocks as
    /// text parts.
    /// </summary>
    /// <returns>Whether there is a system message.</returns>
    private static bool CountSystem(TextTokenCounter counter, JsonElement request, bool padContent, PooledCharBuffer scratch, out int tokens)
    {
        tokens = 0;
        if (!request.TryGetProperty("system", out var system))
        {
            return false;
        }

        JsonElement text;
        switch (system.ValueKind)
        {
            case JsonValueKind.String when system.ValueEquals(string.Empty):
                return false;
            case JsonValueKind.String:
                text = system;
                break;
            case JsonValueKind.Array when system.GetArrayLength() == 0:
                return false;
            case JsonValueKind.Array when system.GetArrayLength() == 1:
                TryGetBlockText(system[0], out text);
                break;
            case JsonValueKind.Array:
                tokens = TokensPerMessage + counter.CountTokens("system");
                foreach (var block in system.EnumerateArray())
                {
                    tokens += TryGetBlockText(block, out text) ? counter.CountTokens(text) : 0;
                }

                return true;
            default:
                return false;
        }

        tokens = TokensPerMessage + counter.CountTokens("system");
        if (text.ValueKind != JsonValueKind.String)
        {
            return true;
        }

        if (padContent)
        {
            scratch.Clear();
            scratch.AppendJsonString(text);
            scratch.Append('\n');
            tokens += counter.CountTokens(scratch.WrittenSpan);
        }
        else
        {
            tokens += counter.CountTokens(text);
        }

        return true;
    }

    /// <summary>
    /// Counts one Anthropic message as the chat messages it becomes: string content as is; an assistant's blocks as one
    /// message with its text and a tool call per <c>tool_use</c>; a user's <c>tool_result</c> blocks as one tool message
    /// each, and its text and image blocks as one user message, written only when there are any.
    /// </summary>
    private static long CountAnthropicMessage(
        TextTokenCounter counter, JsonElement message, PooledCharBuffer scratch, ref ArrayBufferWriter<byte>? arguments)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            return 0;
        }

        bool hasRole = message.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String;
        int roleTokens = hasRole ? counter.CountTokens(role) : 0;
        if (!message.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array)
        {
            return TokensPerMessage + roleTokens + (content.ValueKind == JsonValueKind.String ? counter.CountTokens(content) : 0);
        }

        if (hasRole && role.ValueEquals("assistant"))
        {
            long assistant = TokensPerMessage + roleTokens;
            foreach (var block in content.EnumerateArray())
            {
                if (IsBlock(block, "text"))
                {
                    assistant += TryGetBlockText(block, out var text) ? counter.CountTokens(text) : 0;
                }
                else if (IsBlock(block, "tool_use"))
                {
                    assistant += CountToolUse(counter, block, scratch, ref arguments) + TokensPerFunctionCall;
                }
            }

            return assistant;
        }

        long tokens = 0;
        long parts = 0;
        bool hasParts = false;
        foreach (var block in content.EnumerateArray())
        {
            if (IsBlock(block, "tool_result"))
            {
                tokens += TokensPerMessage + counter.CountTokens("tool");
                if (block.TryGetProperty("tool_use_id", out var id) && id.ValueKind == JsonValueKind.String)
                {
                    tokens += counter.CountTokens(id);
                }

                if (block.TryGetProperty("content", out var result))
                {
                    tokens += result.ValueKind == JsonValueKind.String ? counter.CountTokens(result) : CountTextAndImageBlocks(counter, result);
                }
            }
            else if (IsBlock(block, "text") || IsBlock(block, "image"))
            {
                hasParts = true;
                parts += CountTextAndImageBlock(counter, block);
            }
        }

        return hasParts ? tokens + TokensPerMessage + roleTokens + parts : tokens;
    }

    private static long CountTextAndImageBlocks(TextTokenCounter counter, JsonElement blocks)
    {
        long tokens = 0;
        if (blocks.ValueKind == JsonValueKind.Array)
        {
            foreach (var block in blocks.EnumerateArray())
            {
                tokens += CountTextAndImageBlock(counter, block);
            }
        }

        return tokens;
    }

    private static int CountTextAndImageBlock(TextTokenCounter counter, JsonElement block)
    {
        if (TryGetBlockText(block, out var text))
        {
            return counter.CountTokens(text);
        }

        return IsBlock(block, "image") && block.TryGetProperty("source", out var source)
            ? ImageTokenEstimator.EstimateAnthropicSource(source)
            : 0;
    }

    private static int CountToolUse(TextTokenCounter counter, JsonElement toolUse, PooledCharBuffer scratch, ref ArrayBufferWriter<byte>? arguments)
    {
        int tokens = toolUse.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String ? counter.CountTokens(name) : 0;
        scratch.Clear();
        if (toolUse.TryGetProperty("input", out var input) && input.ValueKind != JsonValueKind.Null)
        {
            arguments ??= new ArrayBufferWriter<byte>(256);
            arguments.ResetWrittenCount();
            using (var writer = new Utf8JsonWriter(arguments, ToolArgumentsJson))
            {
                input.WriteTo(writer);
            }

            scratch.AppendUtf8(arguments.WrittenSpan);
        }
        else
        {
            scratch.Append("{}");
        }

        return tokens + counter.CountTokens(scratch.WrittenSpan);
    }

    // tool_choice as the OpenAI choice it maps to: "none" costs 1, a named tool its name plus 4, "auto" and "any" nothing.
    private static int CountAnthropicToolChoice(TextTokenCounter counter, JsonElement request)
    {
        if (!request.TryGetProperty("tool_choice", out var choice)
            || choice.ValueKind != JsonValueKind.Object
            || !choice.TryGetProperty("type", out var type)
            || type.ValueKind != JsonValueKind.String)
        {
            return 0;
        }

        if (type.ValueEquals("none"))
        {
            return NoneToolChoiceTokens;
        }

        return type.ValueEquals("tool") && choice.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
            ? counter.CountTokens(name) + NamedToolChoiceTokens
            : 0;
    }

    private static bool IsBlock(JsonElement block, string type) =>
        block.ValueKind == JsonValueKind.Object
        && block.TryGetProperty("type", out var value)
        && value.ValueKind == JsonValueKind.String
        && value.ValueEquals(type);

    private static bool TryGetBlockText(JsonElement block, out JsonElement text)
    {
        text = default;
        return IsBlock(block, "text") && block.TryGetProperty("text", out text) && text.ValueKind == JsonValueKind.String;
    }

    private static PromptTokenCount CountInput(TextTokenCounter counter, JsonElement request, string property)
    {
        const string Shape = "must be a string, an array of strings, an array of token ids or an array of token id arrays.";
        if (!request.TryGetProperty(property, out var input))
        {
            return new(0, $"Missing required parameter: '{property}'.", property);
        }

        var errors = default(ErrorSlot);
        long total = 0;
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                total = counter.CountTokens(input);
                break;
            case JsonValueKind.Array:
                int index = 0;
                foreach (var item in input.EnumerateArray())
                {
                    switch (item.ValueKind)
                    {
                        case JsonValueKind.String:
                            total += counter.CountTokens(item);
                            break;
                        case JsonValueKind.Number:
                            total++;
                            break;
                        case JsonValueKind.Array when IsTokenArray(item):
                            total += item.GetArrayLength();
                            break;
                        default:
                            errors.Set(Path(property, index), Shape);
                            break;
                    }

                    index++;
                }

                break;
            default:
                errors.Set(property, Shape);
                break;
        }

        return errors.ToResult(total);
    }

    private static bool IsTokenArray(JsonElement array)
    {
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsRole(JsonElement message, string role) =>
        message.TryGetProperty("role", out var value) && value.ValueKind == JsonValueKind.String && value.ValueEquals(role);

    private static string Path(string property, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{property}[{index}]");

    private static string Path(string property, int index, string field) =>
        string.Create(CultureInfo.InvariantCulture, $"{property}[{index}].{field}");

    private static string Path(string property, int index, string field, int fieldIndex) =>
        string.Create(CultureInfo.InvariantCulture, $"{property}[{index}].{field}[{fieldIndex}]");

    // Keeps the first shape error only, like the API, which reports one parameter per error.
    private struct ErrorSlot
    {
        private string? _param;
        private string? _message;

        public void Set(string param, string problem)
        {
            if (_param is null)
            {
                _param = param;
                _message = $"Invalid value for '{param}': {problem}";
            }
        }

        public readonly PromptTokenCount ToResult(long tokens) =>
            new((int)Math.Min(int.MaxValue, tokens), _message, _param);
    }
}
