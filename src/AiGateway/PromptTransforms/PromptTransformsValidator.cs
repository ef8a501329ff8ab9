namespace AiGateway.PromptTransforms;

/// <summary>Checks one scope's <see cref="PromptTransformOptions"/>; every error carries its JSON path.</summary>
internal static class PromptTransformsValidator
{
    public static readonly string[] SystemPromptModes = ["prepend", "append", "replace"];
    public static readonly string[] RedactionModes = ["mask", "reject"];
    public static readonly string[] TemplateRoles = ["system", "user", "assistant"];

    // The gateway owns these: changing them would bypass routing, authorization or the extension field.
    private static readonly string[] ReservedParameters = ["model", "messages", "aigateway"];

    public static void Validate(PromptTransformOptions? options, string path, List<string> errors)
    {
        if (options is null) return;

        if (options.SystemPrompt is { } system)
        {
            if (!SystemPromptModes.Contains(system.Mode, StringComparer.Ordinal)) errors.Add($"{path}.systemPrompt.mode: '{system.Mode}' is not one of {string.Join(", ", SystemPromptModes)}.");
            if (string.IsNullOrWhiteSpace(system.Text)) errors.Add($"{path}.systemPrompt.text: must not be empty.");
        }

        var templateNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Templates.Count; i++)
        {
            var template = options.Templates[i];
            var tpath = $"{path}.templates[{i}]";
            if (string.IsNullOrWhiteSpace(template.Name)) errors.Add($"{tpath}.name: every template needs a name.");
            else if (!templateNames.Add(template.Name)) errors.Add($"{tpath}.name: '{template.Name}' is defined more than once.");
            if (template.Messages.Count == 0) errors.Add($"{tpath}.messages: at least one message is required.");
            for (var j = 0; j < template.Messages.Count; j++)
            {
                var message = template.Messages[j];
                if (!TemplateRoles.Contains(message.Role, StringComparer.Ordinal)) errors.Add($"{tpath}.messages[{j}].role: '{message.Role}' is not one of {string.Join(", ", TemplateRoles)}.");
                if (!PromptTemplate.TryParseText(message.Content, out _, out var error)) errors.Add($"{tpath}.messages[{j}].content: {error}");
            }
        }

        if (options.Parameters is { } parameters)
        {
            foreach (var name in parameters.Defaults.Keys.Concat(parameters.Overrides.Keys).Concat(parameters.Max.Keys).Concat(parameters.Deny))
            {
                if (ReservedParameters.Contains(name, StringComparer.Ordinal)) errors.Add($"{path}.parameters: '{name}' is set by the gateway and cannot be configured.");
            }
            foreach (var (name, max) in parameters.Max)
            {
                if (!double.IsFinite(max)) errors.Add($"{path}.parameters.max.{name}: must be a finite number.");
            }
            for (var i = 0; i < parameters.Deny.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(parameters.Deny[i])) errors.Add($"{path}.parameters.deny[{i}]: must not be empty.");
            }
        }

        if (options.Redaction is { } redaction)
        {
            if (!RedactionModes.Contains(redaction.Mode, StringComparer.Ordinal)) errors.Add($"{path}.redaction.mode: '{redaction.Mode}' is not one of {string.Join(", ", RedactionModes)}.");
            for (var i = 0; i < (redaction.Detectors?.Count ?? 0); i++)
            {
                var detector = redaction.Detectors![i];
                if (!PiiDetectors.Names.Contains(detector, StringComparer.Ordinal)) errors.Add($"{path}.redaction.detectors[{i}]: '{detector}' is not one of {string.Join(", ", PiiDetectors.Names)}.");
            }
            var customNames = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < redaction.Custom.Count; i++)
            {
                var custom = redaction.Custom[i];
                var cpath = $"{path}.redaction.custom[{i}]";
                if (custom.Name.Length is 0 or > 32 || !custom.Name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')) errors.Add($"{cpath}.name: 1 to 32 letters, digits or '_'.");
                else if (!customNames.Add(custom.Name) || PiiDetectors.Names.Contains(custom.Name, StringComparer.OrdinalIgnoreCase)) errors.Add($"{cpath}.name: '{custom.Name}' is already used by another detector.");
                if (PromptRegex.Check(custom.Pattern) is { } problem) errors.Add($"{cpath}.pattern: {problem}");
            }
        }

        if (options.Guardrails is { } guardrails)
        {
            if (guardrails.MaxPromptChars is <= 0) errors.Add($"{path}.guardrails.maxPromptChars: must be positive.");
            var ruleNames = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < guardrails.Rules.Count; i++)
            {
                var rule = guardrails.Rules[i];
                var rpath = $"{path}.guardrails.rules[{i}]";
                if (string.IsNullOrWhiteSpace(rule.Name)) errors.Add($"{rpath}.name: every rule needs a name.");
                else if (!ruleNames.Add(rule.Name)) errors.Add($"{rpath}.name: '{rule.Name}' is defined more than once.");
                if (rule.Keywords.Count == 0 && rule.Pattern is null) errors.Add($"{rpath}: a rule needs keywords, a pattern, or both.");
                for (var k = 0; k < rule.Keywords.Count; k++)
                {
                    if (string.IsNullOrWhiteSpace(rule.Keywords[k])) errors.Add($"{rpath}.keywords[{k}]: must not be empty.");
                }
                if (rule.Pattern is not null && PromptRegex.Check(rule.Pattern) is { } problem) errors.Add($"{rpath}.pattern: {problem}");
            }
        }
    }
}
