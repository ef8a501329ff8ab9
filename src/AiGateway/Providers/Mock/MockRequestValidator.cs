using System.Globalization;
using System.Text.Json;
using AiGateway.Protocol;

namespace AiGateway.Providers.Mock;

/// <summary>
/// Rejects what OpenAI's API rejects, with its status, wording, <c>param</c> and <c>code</c>, so a client tried
/// against the mock meets the same 400s it would meet at the real endpoint.
/// </summary>
/// <remarks>
/// These are provider-side rules (OpenAI's ranges, roles, four stop sequences…): other providers behind the
/// gateway accept more, so the gateway itself does not apply them. What the gateway already checks for every
/// provider is not repeated: <c>model</c>, the type of <c>stream</c> and <c>stream_options</c>, and
/// <c>max_tokens</c>/<c>max_completion_tokens</c> (<see cref="RequestScanner"/>). Unknown fields are accepted,
/// as OpenAI ignores some and SDKs send new ones; <c>null</c> is accepted for every optional parameter.
/// </remarks>
internal static class MockRequestValidator
{
    private const int MaxChoices = 128;
    private const int MaxStopSequences = 4;
    private const int MaxTools = 128;
    private const int MaxEmbeddingInputs = 2048;

    /// <summary>Prompts in one completions request, and choices (prompts × n) in its answer: the mock builds every one in memory.</summary>
    public const int MaxPrompts = 2048;
    public const int MaxCompletionChoices = 2048;

    /// <summary>The mock's own ceiling for <c>dimensions</c>: it builds the vectors in memory.</summary>
    internal const int MaxDimensions = 8192;

    private static readonly string[] Roles = ["system", "developer", "user", "assistant", "tool", "function"];
    private static readonly string[] TextParts = ["text"];
    private static readonly string[] UserParts = ["text", "image_url", "input_audio", "file"];
    private static readonly string[] AssistantParts = ["text", "refusal"];
    private static readonly string[] ToolTypes = ["function", "custom"];
    private static readonly string[] ToolChoiceModes = ["none", "auto", "required"];
    private static readonly string[] ToolChoiceTypes = ["function", "custom", "allowed_tools"];
    private static readonly string[] ResponseFormats = ["text", "json_object", "json_schema"];
    private static readonly string[] EncodingFormats = ["float", "base64"];

    /// <summary>
    /// The first problem with the request, or null when OpenAI would accept it. Not applied on the Anthropic
    /// surface (<see cref="AiOperation.Messages"/>): that body is the gateway's own translation of a request
    /// already checked against Anthropic's rules, which differ (more stop sequences, for one).
    /// </summary>
    public static ClientError? Validate(JsonElement root, AiOperation operation) => operation switch
    {
        AiOperation.ChatCompletions => Chat(root),
        AiOperation.Completions => Completion(root),
        AiOperation.Embeddings => Embeddings(root),
        _ => null,
    };

    private static ClientError? Chat(JsonElement root) =>
        Messages(root)
        ?? Sampling(root)
        ?? IntegerField(root, "n", 1, MaxChoices)
        ?? BooleanField(root, "logprobs")
        ?? TopLogprobs(root)
        ?? Tools(root)
        ?? ToolChoice(root)
        ?? BooleanField(root, "parallel_tool_calls")
        ?? ResponseFormat(root)
        ?? StreamOptions(root);

    private static ClientError? Completion(JsonElement root) =>
        Prompt(root)
        ?? Sampling(root)
        ?? IntegerField(root, "n", 1, MaxChoices)
        ?? IntegerField(root, "best_of", 0, 20)
        ?? BestOf(root)
        ?? BooleanField(root, "echo")
        ?? StringField(root, "suffix")
        ?? IntegerField(root, "logprobs", 0, 5)
        ?? StreamOptions(root);

    private static ClientError? Embeddings(JsonElement root) =>
        EmbeddingInput(root)
        ?? EnumField(root, "encoding_format", EncodingFormats)
        ?? IntegerField(root, "dimensions", 1, MaxDimensions)
        ?? StringField(root, "user");

    /// <summary>The sampling parameters chat and completions share.</summary>
    private static ClientError? Sampling(JsonElement root) =>
        NumberField(root, "temperature", 0, 2)
        ?? NumberField(root, "top_p", 0, 1)
        ?? NumberField(root, "presence_penalty", -2, 2)
        ?? NumberField(root, "frequency_penalty", -2, 2)
        ?? IntegerField(root, "seed", long.MinValue, long.MaxValue)
        ?? StringField(root, "user")
        ?? Stop(root)
        ?? LogitBias(root);

    private static ClientError? Messages(JsonElement root)
    {
        if (!TryGet(root, "messages", out var messages)) return Missing("messages");
        if (messages.ValueKind != JsonValueKind.Array) return WrongType("messages", "an array", messages);
        if (messages.GetArrayLength() == 0) return EmptyArray("messages");

        // OpenAI pairs tool results with the assistant's calls: each tool message answers a call of the assistant
        // message right before the run of tool messages, and every call is answered before the next message.
        string[]? calls = null;
        List<string>? unanswered = null;
        var callsAt = -1;
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var path = $"messages[{index}]";
            if (Message(message, path) is { } error) return error;

            var role = message.GetProperty("role").GetString();
            if (role == "tool")
            {
                var id = message.GetProperty("tool_call_id").GetString()!;
                if (calls is null)
                {
                    return Invalid("Invalid parameter: messages with role 'tool' must be a response to a preceding message with 'tool_calls'.", path + ".role");
                }
                if (Array.IndexOf(calls, id) < 0)
                {
                    return Invalid($"Invalid parameter: 'tool_call_id' of '{OpenAiError.Echo(id)}' not found in 'tool_calls' of previous message.", path + ".tool_call_id");
                }
                unanswered!.Remove(id);
            }
            else
            {
                if (unanswered is { Count: > 0 }) return Unanswered(callsAt, unanswered);
                calls = null;
                if (role == "assistant" && TryGet(message, "tool_calls", out var toolCalls))
                {
                    calls = [.. toolCalls.EnumerateArray().Select(call => call.GetProperty("id").GetString()!)];
                    unanswered = [.. calls];
                    callsAt = index;
                }
            }
            index++;
        }
        return unanswered is { Count: > 0 } ? Unanswered(callsAt, unanswered) : null;
    }

    private static ClientError Unanswered(int index, List<string> ids) => Invalid(
        "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. "
        + $"The following tool_call_ids did not have response messages: {OpenAiError.Echo(string.Join(", ", ids))}",
        $"messages[{index}].role");

    private static ClientError? Message(JsonElement message, string path)
    {
        if (message.ValueKind != JsonValueKind.Object) return WrongType(path, "an object", message);
        if (!TryGet(message, "role", out var role)) return Missing(path + ".role");
        if (EnumValue(role, path + ".role", Roles) is { } roleError) return roleError;
        if (StringField(message, "name", path + ".name") is { } nameError) return nameError;

        var content = path + ".content";
        switch (role.GetString())
        {
            case "system" or "developer":
                return Content(message, content, TextParts, required: true);
            case "user":
                return Content(message, content, UserParts, required: true);
            case "tool":
                if (Content(message, content, TextParts, required: true) is { } toolContent) return toolContent;
                if (!TryGet(message, "tool_call_id", out var id)) return Missing(path + ".tool_call_id");
                return id.ValueKind == JsonValueKind.String ? null : WrongType(path + ".tool_call_id", "a string", id);
            case "function":
                if (!TryGet(message, "name", out _)) return Missing(path + ".name");
                return StringField(message, "content", content);
            default:
                var hasCalls = TryGet(message, "tool_calls", out var toolCalls);
                var hasFunctionCall = TryGet(message, "function_call", out var functionCall);
                return Content(message, content, AssistantParts, required: !hasCalls && !hasFunctionCall)
                    ?? (hasCalls ? ToolCalls(toolCalls, path + ".tool_calls") : null)
                    ?? (hasFunctionCall ? FunctionCall(functionCall, path + ".function_call") : null);
        }
    }

    private static ClientError? Content(JsonElement message, string param, string[] partTypes, bool required)
    {
        if (!TryGet(message, "content", out var content)) return required ? Missing(param) : null;
        if (content.ValueKind == JsonValueKind.String) return null;
        if (content.ValueKind != JsonValueKind.Array) return WrongType(param, "one of a string or array of objects", content);
        if (content.GetArrayLength() == 0) return EmptyArray(param);

        var index = 0;
        foreach (var part in content.EnumerateArray())
        {
            var path = $"{param}[{index++}]";
            if (part.ValueKind != JsonValueKind.Object) return WrongType(path, "an object", part);
            if (!TryGet(part, "type", out var type)) return Missing(path + ".type");
            if (EnumValue(type, path + ".type", partTypes) is { } typeError) return typeError;
            var error = type.GetString() switch
            {
                "text" => RequiredString(part, "text", path + ".text"),
                "refusal" => RequiredString(part, "refusal", path + ".refusal"),
                "image_url" => RequiredObject(part, "image_url", path + ".image_url", out var image) ?? RequiredString(image, "url", path + ".image_url.url"),
                "input_audio" => RequiredObject(part, "input_audio", path + ".input_audio", out var audio)
                    ?? RequiredString(audio, "data", path + ".input_audio.data")
                    ?? RequiredString(audio, "format", path + ".input_audio.format"),
                _ => RequiredObject(part, "file", path + ".file", out _),
            };
            if (error is not null) return error;
        }
        return null;
    }

    private static ClientError? ToolCalls(JsonElement calls, string param)
    {
        if (calls.ValueKind != JsonValueKind.Array) return WrongType(param, "an array", calls);
        if (calls.GetArrayLength() == 0) return EmptyArray(param);
        var index = 0;
        foreach (var call in calls.EnumerateArray())
        {
            var path = $"{param}[{index++}]";
            if (call.ValueKind != JsonValueKind.Object) return WrongType(path, "an object", call);
            var error = RequiredString(call, "id", path + ".id")
                ?? (TryGet(call, "type", out var type) ? EnumValue(type, path + ".type", ToolTypes) : Missing(path + ".type"))
                ?? (type.ValueEquals("custom"u8)
                    ? RequiredObject(call, "custom", path + ".custom", out var custom) ?? RequiredString(custom, "name", path + ".custom.name") ?? RequiredString(custom, "input", path + ".custom.input")
                    : RequiredObject(call, "function", path + ".function", out var function) ?? FunctionCall(function, path + ".function"));
            if (error is not null) return error;
        }
        return null;
    }

    private static ClientError? FunctionCall(JsonElement call, string param) =>
        call.ValueKind != JsonValueKind.Object
            ? WrongType(param, "an object", call)
            : RequiredString(call, "name", param + ".name") ?? RequiredString(call, "arguments", param + ".arguments");

    private static ClientError? Tools(JsonElement root)
    {
        if (!TryGet(root, "tools", out var tools)) return null;
        if (tools.ValueKind != JsonValueKind.Array) return WrongType("tools", "an array", tools);
        if (tools.GetArrayLength() == 0) return EmptyArray("tools");
        if (tools.GetArrayLength() > MaxTools) return ArrayTooLong("tools", MaxTools, tools.GetArrayLength());

        var index = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var path = $"tools[{index++}]";
            if (tool.ValueKind != JsonValueKind.Object) return WrongType(path, "an object", tool);
            if (!TryGet(tool, "type", out var type)) return Missing(path + ".type");
            if (EnumValue(type, path + ".type", ToolTypes) is { } typeError) return typeError;

            var kind = type.GetString()!;
            var error = RequiredObject(tool, kind, $"{path}.{kind}", out var definition)
                ?? (TryGet(definition, "name", out var name) ? FunctionName(name, $"{path}.{kind}.name") : Missing($"{path}.{kind}.name"))
                ?? StringField(definition, "description", $"{path}.{kind}.description")
                ?? (kind == "function"
                    ? ObjectField(definition, "parameters", $"{path}.function.parameters") ?? BooleanField(definition, "strict", $"{path}.function.strict")
                    : ObjectField(definition, "format", $"{path}.custom.format"));
            if (error is not null) return error;
        }
        return null;
    }

    private static ClientError? ToolChoice(JsonElement root)
    {
        if (!TryGet(root, "tool_choice", out var choice)) return null;
        string? named = null;
        string? namedParam = null;
        if (choice.ValueKind == JsonValueKind.String)
        {
            if (EnumValue(choice, "tool_choice", ToolChoiceModes) is { } modeError) return modeError;
            if (choice.ValueEquals("none"u8)) return null;
        }
        else if (choice.ValueKind == JsonValueKind.Object)
        {
            if (!TryGet(choice, "type", out var type)) return Missing("tool_choice.type");
            if (EnumValue(type, "tool_choice.type", ToolChoiceTypes) is { } typeError) return typeError;
            var kind = type.GetString()!;
            if (kind == "allowed_tools")
            {
                if (RequiredObject(choice, kind, "tool_choice.allowed_tools", out _) is { } allowedError) return allowedError;
            }
            else
            {
                namedParam = $"tool_choice.{kind}.name";
                if ((RequiredObject(choice, kind, $"tool_choice.{kind}", out var target) ?? RequiredString(target, "name", namedParam)) is { } targetError)
                {
                    return targetError;
                }
                named = target.GetProperty("name").GetString();
            }
        }
        else
        {
            return WrongType("tool_choice", "one of a string or object", choice);
        }

        if (!TryGet(root, "tools", out var tools))
        {
            return Invalid("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", "tool_choice");
        }
        if (named is not null && !tools.EnumerateArray().Any(tool => DeclaredName(tool) == named))
        {
            return Invalid($"Invalid value for 'tool_choice': no tool named '{OpenAiError.Echo(named)}' is declared in 'tools'.", namedParam);
        }
        return null;
    }

    private static string? DeclaredName(JsonElement tool) =>
        tool.TryGetProperty("type", out var type) && type.GetString() is { } kind
        && tool.TryGetProperty(kind, out var definition) && definition.TryGetProperty("name", out var name)
            ? name.GetString()
            : null;

    /// <summary>Function, custom tool and JSON schema names: 1–64 of <c>a-zA-Z0-9_-</c>.</summary>
    private static ClientError? FunctionName(JsonElement name, string param)
    {
        if (name.ValueKind != JsonValueKind.String) return WrongType(param, "a string", name);
        var value = name.GetString()!;
        if (value.Length == 0) return EmptyString(param);
        if (value.Length > 64)
        {
            return new(400, $"Invalid '{param}': string too long. Expected a string with maximum length 64, but got a string with length {value.Length} instead.", param, "string_above_max_length");
        }
        foreach (var c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('_' or '-'))
            {
                return Invalid($"Invalid '{param}': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.", param);
            }
        }
        return null;
    }

    private static ClientError? ResponseFormat(JsonElement root)
    {
        if (!TryGet(root, "response_format", out var format)) return null;
        if (format.ValueKind != JsonValueKind.Object) return WrongType("response_format", "an object", format);
        if (!TryGet(format, "type", out var type)) return Missing("response_format.type");
        if (EnumValue(type, "response_format.type", ResponseFormats) is { } typeError) return typeError;
        if (!type.ValueEquals("json_schema"u8)) return null;

        return RequiredObject(format, "json_schema", "response_format.json_schema", out var schema)
            ?? (TryGet(schema, "name", out var name) ? FunctionName(name, "response_format.json_schema.name") : Missing("response_format.json_schema.name"))
            ?? StringField(schema, "description", "response_format.json_schema.description")
            ?? ObjectField(schema, "schema", "response_format.json_schema.schema")
            ?? BooleanField(schema, "strict", "response_format.json_schema.strict");
    }

    private static ClientError? TopLogprobs(JsonElement root)
    {
        if (IntegerField(root, "top_logprobs", 0, 20) is { } error) return error;
        if (TryGet(root, "top_logprobs", out _) && !(root.TryGetProperty("logprobs", out var logprobs) && logprobs.ValueKind == JsonValueKind.True))
        {
            return Invalid("Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is specified.", "top_logprobs");
        }
        return null;
    }

    private static ClientError? StreamOptions(JsonElement root) =>
        TryGet(root, "stream_options", out _) && !(root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True)
            ? Invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options")
            : null;

    private static ClientError? Stop(JsonElement root)
    {
        if (!TryGet(root, "stop", out var stop) || stop.ValueKind == JsonValueKind.String) return null;
        if (stop.ValueKind != JsonValueKind.Array) return WrongType("stop", "one of a string or array of strings", stop);
        if (stop.GetArrayLength() > MaxStopSequences) return ArrayTooLong("stop", MaxStopSequences, stop.GetArrayLength());
        var index = 0;
        foreach (var sequence in stop.EnumerateArray())
        {
            if (sequence.ValueKind != JsonValueKind.String) return WrongType($"stop[{index}]", "a string", sequence);
            index++;
        }
        return null;
    }

    private static ClientError? LogitBias(JsonElement root)
    {
        if (!TryGet(root, "logit_bias", out var bias)) return null;
        if (bias.ValueKind != JsonValueKind.Object) return WrongType("logit_bias", "an object", bias);
        foreach (var entry in bias.EnumerateObject())
        {
            if (!ulong.TryParse(entry.Name, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                return Invalid($"Invalid key in 'logit_bias': {OpenAiError.Echo(entry.Name)}. You should only be submitting non-negative integers.", "logit_bias");
            }
            var value = entry.Value;
            if (value.ValueKind != JsonValueKind.Number) return WrongType($"logit_bias.{OpenAiError.Echo(entry.Name)}", "a number", value);
            if (!value.TryGetDouble(out var number) || number is < -100 or > 100)
            {
                return Invalid($"Invalid value for 'logit_bias': the bias for token {OpenAiError.Echo(entry.Name)} is {OpenAiError.Echo(value.GetRawText())}; values must be between -100 and 100.", "logit_bias");
            }
        }
        return null;
    }

    private static ClientError? Prompt(JsonElement root)
    {
        if (!TryGet(root, "prompt", out var prompt)) return Missing("prompt");
        if (prompt.ValueKind == JsonValueKind.String) return null;
        if (prompt.ValueKind != JsonValueKind.Array) return WrongType("prompt", "one of a string, array of strings, array of integers or array of integer arrays", prompt);
        if (prompt.GetArrayLength() == 0) return EmptyArray("prompt");
        var prompts = prompt[0].ValueKind == JsonValueKind.Number ? 1 : prompt.GetArrayLength();
        if (prompts > MaxPrompts) return ArrayTooLong("prompt", MaxPrompts, prompts);
        var n = TryGet(root, "n", out var choices) && choices.ValueKind == JsonValueKind.Number && choices.TryGetInt32(out var count) ? count : 1;
        if ((long)prompts * n > MaxCompletionChoices)
        {
            return new ClientError(400, $"Invalid 'n': {prompts} prompts with n = {n} ask for {(long)prompts * n} choices; at most {MaxCompletionChoices}.", "n", "invalid_value");
        }
        return Items(prompt, "prompt", allowEmptyStrings: true);
    }

    private static ClientError? EmbeddingInput(JsonElement root)
    {
        if (!TryGet(root, "input", out var input)) return Missing("input");
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                return input.ValueEquals(""u8) ? EmptyString("input") : null;
            case JsonValueKind.Array:
                var count = input.GetArrayLength();
                if (count == 0) return EmptyArray("input");
                if (count > MaxEmbeddingInputs) return ArrayTooLong("input", MaxEmbeddingInputs, count);
                return Items(input, "input", allowEmptyStrings: false);
            default:
                return WrongType("input", "one of a string, array of strings, array of integers or array of integer arrays", input);
        }
    }

    /// <summary>A prompt or input array: all strings, all token ids, or all non-empty token arrays, as the first item sets.</summary>
    private static ClientError? Items(JsonElement items, string param, bool allowEmptyStrings)
    {
        var first = items[0].ValueKind;
        var index = 0;
        foreach (var item in items.EnumerateArray())
        {
            var path = $"{param}[{index++}]";
            var error = first switch
            {
                JsonValueKind.String when item.ValueKind != JsonValueKind.String => WrongType(path, "a string", item),
                JsonValueKind.String => allowEmptyStrings || !item.ValueEquals(""u8) ? null : EmptyString(path),
                JsonValueKind.Number => IntegerValue(item, path, 0, int.MaxValue),
                JsonValueKind.Array when item.ValueKind != JsonValueKind.Array => WrongType(path, "an array", item),
                JsonValueKind.Array => Tokens(item, path),
                _ => WrongType(path, "one of a string, integer or array of integers", item),
            };
            if (error is not null) return error;
        }
        return null;
    }

    private static ClientError? Tokens(JsonElement tokens, string param)
    {
        if (tokens.GetArrayLength() == 0) return EmptyArray(param);
        var index = 0;
        foreach (var token in tokens.EnumerateArray())
        {
            if (IntegerValue(token, $"{param}[{index++}]", 0, int.MaxValue) is { } error) return error;
        }
        return null;
    }

    private static ClientError? BestOf(JsonElement root)
    {
        if (!TryGet(root, "best_of", out var bestOf)) return null;
        var best = bestOf.GetDouble();
        var n = TryGet(root, "n", out var choices) ? choices.GetDouble() : 1;
        if (best < n) return Invalid("best_of must be greater than or equal to n.", "best_of");
        if (best > 1 && root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True)
        {
            return Invalid("Cannot stream results with best_of > 1.", "best_of");
        }
        return null;
    }

    private static ClientError? NumberField(JsonElement root, string name, double min, double max)
    {
        if (!TryGet(root, name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Number) return WrongType(name, "a decimal", value);
        // Past double's range: out of any bound, on the side its sign says.
        var number = value.TryGetDouble(out var parsed) ? parsed : value.GetRawText().StartsWith('-') ? double.NegativeInfinity : double.PositiveInfinity;
        if (number < min) return OutOfRange(name, "decimal below minimum value", ">=", min, value, "decimal_below_min_value");
        if (number > max) return OutOfRange(name, "decimal above maximum value", "<=", max, value, "decimal_above_max_value");
        return null;
    }

    private static ClientError? IntegerField(JsonElement root, string name, long min, long max) =>
        TryGet(root, name, out var value) ? IntegerValue(value, name, min, max) : null;

    private static ClientError? IntegerValue(JsonElement value, string param, long min, long max)
    {
        if (value.ValueKind != JsonValueKind.Number) return WrongType(param, "an integer", value);
        if (!value.TryGetInt64(out var number))
        {
            // 2.0 is an integer; 1.5 is not; 1e30 is one out of any range, on the side its sign says.
            var finite = value.TryGetDouble(out var real);
            if (finite && real != Math.Floor(real)) return WrongType(param, "an integer", value);
            if (!finite || real < long.MinValue || real >= long.MaxValue)
            {
                return value.GetRawText().StartsWith('-')
                    ? OutOfRange(param, "integer below minimum value", ">=", min, value, "integer_below_min_value")
                    : OutOfRange(param, "integer above maximum value", "<=", max, value, "integer_above_max_value");
            }
            number = (long)real;
        }
        if (number < min) return OutOfRange(param, "integer below minimum value", ">=", min, value, "integer_below_min_value");
        if (number > max) return OutOfRange(param, "integer above maximum value", "<=", max, value, "integer_above_max_value");
        return null;
    }

    private static ClientError? BooleanField(JsonElement root, string name, string? param = null) =>
        TryGet(root, name, out var value) && value.ValueKind is not (JsonValueKind.True or JsonValueKind.False)
            ? WrongType(param ?? name, "a boolean", value)
            : null;

    private static ClientError? StringField(JsonElement root, string name, string? param = null) =>
        TryGet(root, name, out var value) && value.ValueKind != JsonValueKind.String
            ? WrongType(param ?? name, "a string", value)
            : null;

    private static ClientError? ObjectField(JsonElement root, string name, string param) =>
        TryGet(root, name, out var value) && value.ValueKind != JsonValueKind.Object
            ? WrongType(param, "an object", value)
            : null;

    private static ClientError? RequiredString(JsonElement parent, string name, string param)
    {
        if (!TryGet(parent, name, out var value)) return Missing(param);
        return value.ValueKind == JsonValueKind.String ? null : WrongType(param, "a string", value);
    }

    private static ClientError? RequiredObject(JsonElement parent, string name, string param, out JsonElement value)
    {
        if (!TryGet(parent, name, out value)) return Missing(param);
        return value.ValueKind == JsonValueKind.Object ? null : WrongType(param, "an object", value);
    }

    private static ClientError? EnumField(JsonElement root, string name, string[] values) =>
        TryGet(root, name, out var value) ? EnumValue(value, name, values) : null;

    private static ClientError? EnumValue(JsonElement value, string param, string[] values)
    {
        if (value.ValueKind != JsonValueKind.String) return WrongType(param, "a string", value);
        var text = value.GetString()!;
        if (Array.IndexOf(values, text) >= 0) return null;
        var supported = values.Length == 2
            ? $"'{values[0]}' and '{values[1]}'"
            : string.Join(", ", values[..^1].Select(v => $"'{v}'")) + $", and '{values[^1]}'";
        return Invalid($"Invalid value: '{OpenAiError.Echo(text)}'. Supported values are: {supported}.", param);
    }

    /// <summary>Present and not null: OpenAI treats an explicit null like an absent optional parameter.</summary>
    private static bool TryGet(JsonElement parent, string name, out JsonElement value) =>
        parent.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

    private static ClientError Invalid(string message, string? param) => new(400, message, param, "invalid_value");

    private static ClientError Missing(string param) =>
        new(400, $"Missing required parameter: '{param}'.", param, "missing_required_parameter");

    private static ClientError WrongType(string param, string expected, JsonElement value) =>
        new(400, $"Invalid type for '{param}': expected {expected}, but got {Describe(value)} instead.", param, "invalid_type");

    private static ClientError EmptyArray(string param) =>
        new(400, $"Invalid '{param}': empty array. Expected an array with minimum length 1, but got an empty array instead.", param, "empty_array");

    private static ClientError EmptyString(string param) =>
        new(400, $"Invalid '{param}': string too short. Expected a string with minimum length 1, but got an empty string instead.", param, "empty_string");

    private static ClientError ArrayTooLong(string param, int max, int length) =>
        new(400, $"Invalid '{param}': array too long. Expected an array with maximum length {max}, but got an array with length {length} instead.", param, "array_above_max_length");

    private static ClientError OutOfRange(string param, string problem, string comparison, double bound, JsonElement value, string code) =>
        new(400, string.Create(CultureInfo.InvariantCulture,
            $"Invalid '{param}': {problem}. Expected a value {comparison} {bound}, but got {OpenAiError.Echo(value.GetRawText())} instead."), param, code);

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => value.TryGetInt64(out _) ? "an integer" : "a decimal",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => "null",
    };
}
