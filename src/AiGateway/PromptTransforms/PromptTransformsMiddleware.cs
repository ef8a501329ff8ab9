using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AiGateway.Pipeline;
using AiGateway.Protocol;

namespace AiGateway.PromptTransforms;

/// <summary>
/// Rewrites the request before it is counted, cached or forwarded, so limits and cache keys see what
/// the upstream sees. Scopes apply broadest first (global, model, team, key); within a request the
/// steps run in a fixed order: 1 template, 2 system prompt, 3 parameter policy, 4 guardrails,
/// 5 PII redaction. The body is parsed once into a DOM, serialized once, and re-scanned. A request
/// no scope applies to passes straight through without touching its body.
/// </summary>
internal sealed partial class PromptTransformsMiddleware(RequestDelegate next, ILogger<PromptTransformsMiddleware> logger)
{
    public const string PolicyViolation = "content_policy_violation";

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.GetAiRequest()!;
        var global = request.Config.PromptTransforms;
        var model = request.Model.PromptTransforms;
        var team = request.Caller.TeamPromptTransforms;
        var key = request.Caller.PromptTransforms;
        if (global is null && model is null && team is null && key is null && !request.Scanned.HasExtension)
        {
            return next(context);
        }
        return TransformAsync(context, request, [.. new[] { global, model, team, key }.OfType<PromptPolicy>()]);
    }

    private async Task TransformAsync(HttpContext context, AiRequest request, PromptPolicy[] layers)
    {
        ClientError? error;
        try
        {
            error = Apply(request, layers);
        }
        catch (RegexMatchTimeoutException)
        {
            LogCheckTimedOut();
            error = new ClientError(400, "The request could not be checked against the gateway's content policy in time.", null, PolicyViolation);
        }
        if (error is not null)
        {
            LogRejected(error.Code);
            await error.WriteAsync(context);
            return;
        }
        await next(context);
    }

    /// <summary>Runs every step on <paramref name="request"/>; returns the client error that stops it, or null.</summary>
    internal static ClientError? Apply(AiRequest request, PromptPolicy[] layers)
    {
        var root = JsonNode.Parse(request.Body.Span)!.AsObject();
        var anthropic = request.Operation == AiOperation.Messages;
        var conversational = anthropic || request.Operation == AiOperation.ChatCompletions;
        var changed = false;

        // 1. Template: the extension field is always removed; a template in it renders before the client's messages.
        if (root.Remove("aigateway", out var extension))
        {
            changed = true;
            if (RenderTemplate(root, extension, layers, anthropic, conversational) is { } templateError) return templateError;
        }

        // 2. System prompt, each scope in turn, so a key's prompt wraps its model's.
        foreach (var layer in layers)
        {
            if (conversational && layer.SystemPrompt is { } system)
            {
                changed |= ApplySystemPrompt(root, system.Mode, system.Text, anthropic);
            }
        }

        // 3. Parameters: denials first, then defaults and overrides (a narrower scope wins), then caps (the lowest wins).
        foreach (var layer in layers)
        {
            if (layer.Parameters is not { } parameters) continue;
            foreach (var name in parameters.Deny)
            {
                if (root.ContainsKey(name)) return new ClientError(400, $"The parameter '{name}' is not allowed by the gateway's policy.", name, "parameter_not_allowed");
            }
            foreach (var (name, value) in parameters.Defaults)
            {
                if (root.ContainsKey(name)) continue;
                root[name] = value?.DeepClone();
                changed = true;
            }
            foreach (var (name, value) in parameters.Overrides)
            {
                root[name] = value?.DeepClone();
                changed = true;
            }
        }
        foreach (var layer in layers)
        {
            if (layer.Parameters is not { } parameters) continue;
            foreach (var (name, max) in parameters.Max)
            {
                if (root[name] is JsonValue value && value.GetValueKind() == JsonValueKind.Number
                    && double.TryParse(value.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture, out var number) && number > max)
                {
                    root[name] = double.IsInteger(max) && Math.Abs(max) < 9e15 ? JsonValue.Create((long)max) : JsonValue.Create(max);
                    changed = true;
                }
            }
        }

        var texts = new List<JsonValue>();
        CollectPromptText(root, texts);

        // 4. Guardrails on everything the upstream would read, template and system prompt included.
        foreach (var layer in layers)
        {
            if (layer.Guardrails is not { } guardrails) continue;
            if (guardrails.MaxPromptChars is { } maxChars && texts.Sum(t => (long)t.GetValue<string>().Length) > maxChars)
            {
                return new ClientError(400, $"The prompt is longer than the gateway's limit of {maxChars} characters (rule 'maxPromptChars').", null, PolicyViolation);
            }
            foreach (var rule in guardrails.Rules)
            {
                foreach (var text in texts)
                {
                    if (rule.IsMatch(text.GetValue<string>()))
                    {
                        // The rule is named; the matched text is never echoed, it may be the very thing being kept out.
                        return new ClientError(400, $"The request was rejected by the gateway's content policy (rule '{rule.Name}').", null, PolicyViolation);
                    }
                }
            }
        }

        // 5. Redaction: the narrowest scope that configures it decides.
        if (layers.LastOrDefault(l => l.Redaction is not null)?.Redaction is { } redaction)
        {
            var redactor = new PiiRedactor(redaction.Detectors);
            foreach (var text in texts)
            {
                var value = text.GetValue<string>();
                if (redaction.Reject)
                {
                    if (redactor.Find(value) is { } found)
                    {
                        return new ClientError(400, $"The request contains data the gateway does not forward (rule 'redaction.{found.Name}').", null, PolicyViolation);
                    }
                    continue;
                }
                var masked = redactor.Mask(value);
                if (!ReferenceEquals(masked, value))
                {
                    text.ReplaceWith(JsonValue.Create(masked));
                    changed = true;
                }
            }
            if (redaction.Restore && redactor.Originals.Count > 0)
            {
                request.ResponseFilter = new ResponseFilter(redactor.Originals, []);
            }
        }

        var outputRules = layers.Where(l => l.Guardrails is not null).SelectMany(l => l.Guardrails!.Rules).Where(r => r.CheckOutput).ToArray();
        if (outputRules.Length > 0)
        {
            request.ResponseFilter = new ResponseFilter(request.ResponseFilter?.Originals, outputRules);
        }

        return changed ? Commit(request, root) : null;
    }

    // Serialize once and re-scan, so later steps (token counting, model splice, stream options) read the new body.
    private static ClientError? Commit(AiRequest request, JsonObject root)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(request.Body.Length + 256);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiError.WriterOptions))
        {
            root.WriteTo(writer);
        }
        var body = buffer.WrittenMemory;
        if (!RequestScanner.TryScan(body.Span, out var scanned, out var scanError))
        {
            return new ClientError(400, scanError.Message, scanError.Param, "invalid_value");
        }
        request.Body = body;
        request.Scanned = scanned;
        return null;
    }

    private static ClientError? RenderTemplate(JsonObject root, JsonNode? extension, PromptPolicy[] layers, bool anthropic, bool conversational)
    {
        if (extension is not JsonObject fields)
        {
            return new ClientError(400, "The 'aigateway' field must be an object.", "aigateway", "invalid_value");
        }
        if (!fields.TryGetPropertyValue("template", out var nameNode) || nameNode is null)
        {
            return null;
        }
        if (nameNode.GetValueKind() != JsonValueKind.String)
        {
            return new ClientError(400, "The 'aigateway.template' field must be a string.", "aigateway.template", "invalid_value");
        }
        var name = nameNode.GetValue<string>();
        PromptTemplate? template = null;
        for (var i = layers.Length - 1; i >= 0 && template is null; i--)
        {
            layers[i].Templates.TryGetValue(name, out template);
        }
        if (template is null || !conversational)
        {
            return new ClientError(400, $"The template '{OpenAiError.Echo(name)}' does not exist or cannot be used here.", "aigateway.template", "template_not_found");
        }

        var variables = fields["variables"] as JsonObject;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var variable in template.Variables)
        {
            var node = variables?[variable];
            if (node is null)
            {
                return new ClientError(400, $"The template '{template.Name}' needs the variable '{variable}'.", $"aigateway.variables.{variable}", "missing_template_variable");
            }
            values[variable] = node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : node.ToJsonString();
        }

        if (root["messages"] is not JsonArray messages)
        {
            messages = [];
            root["messages"] = messages;
        }
        var index = 0;
        var systemText = new List<string>();
        foreach (var (role, text) in template.Render(values))
        {
            if (anthropic && role == "system")
            {
                systemText.Add(text);
                continue;
            }
            messages.Insert(index++, new JsonObject { ["role"] = role, ["content"] = text });
        }
        if (systemText.Count > 0)
        {
            ApplySystemPrompt(root, "prepend", string.Join("\n\n", systemText), anthropic);
        }
        return null;
    }

    /// <summary>
    /// Chat completions: the first <c>system</c> (or <c>developer</c>) message gets the text before or after its
    /// own, or a new system message leads the conversation; replace removes the client's. Anthropic: the <c>system</c> field.
    /// </summary>
    internal static bool ApplySystemPrompt(JsonObject root, string mode, string text, bool anthropic)
    {
        if (anthropic)
        {
            root["system"] = Combine(root["system"], mode, text);
            return true;
        }
        if (root["messages"] is not JsonArray messages) return false;
        if (mode == "replace")
        {
            for (var i = messages.Count - 1; i >= 0; i--)
            {
                if (IsSystem(messages[i])) messages.RemoveAt(i);
            }
        }
        var existing = messages.FirstOrDefault(IsSystem) as JsonObject;
        if (existing is null)
        {
            messages.Insert(0, new JsonObject { ["role"] = "system", ["content"] = text });
        }
        else
        {
            existing["content"] = Combine(existing["content"], mode, text);
        }
        return true;
    }

    private static bool IsSystem(JsonNode? message) =>
        message is JsonObject o && o["role"] is JsonValue role && role.TryGetValue<string>(out var value) && value is "system" or "developer";

    private static JsonNode Combine(JsonNode? current, string mode, string text)
    {
        switch (current)
        {
            case JsonValue value when mode != "replace" && value.TryGetValue<string>(out var existing) && existing.Length > 0:
                return JsonValue.Create(mode == "prepend" ? text + "\n\n" + existing : existing + "\n\n" + text);
            case JsonArray parts when mode != "replace":
                var part = new JsonObject { ["type"] = "text", ["text"] = text };
                var copy = parts.DeepClone().AsArray();
                if (mode == "prepend") copy.Insert(0, part);
                else copy.Add(part);
                return copy;
            default:
                return JsonValue.Create(text);
        }
    }

    /// <summary>
    /// The strings a model reads as prompt: message <c>content</c> (strings and text parts), <c>system</c>,
    /// <c>prompt</c> and <c>input</c>. Roles, ids, image URLs and tool-call arguments are not prompt text.
    /// </summary>
    internal static void CollectPromptText(JsonObject root, List<JsonValue> into)
    {
        foreach (var (name, value) in root)
        {
            if (name == "messages") Collect(value, false, into);
            else if (name is "system" or "prompt" or "input") Collect(value, true, into);
        }
    }

    private static void Collect(JsonNode? node, bool isText, List<JsonValue> into)
    {
        switch (node)
        {
            case JsonValue value when isText && value.GetValueKind() == JsonValueKind.String:
                into.Add(value);
                break;
            case JsonArray array:
                foreach (var item in array) Collect(item, isText, into);
                break;
            case JsonObject obj:
                foreach (var (name, child) in obj) Collect(child, name is "content" or "text", into);
                break;
        }
    }

    // The code only: the message may name a rule, and the prompt is never logged.
    [LoggerMessage(31, LogLevel.Debug, "Request rejected by prompt transforms: {Code}.")]
    private partial void LogRejected(string? code);

    [LoggerMessage(30, LogLevel.Warning, "A prompt check hit its regular-expression timeout; the request was rejected.")]
    private partial void LogCheckTimedOut();
}
