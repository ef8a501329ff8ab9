using System.Collections.Frozen;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AiGateway.PromptTransforms;

/// <summary>The compiled, immutable form of one scope's <see cref="PromptTransformOptions"/>.</summary>
internal sealed class PromptPolicy
{
    public SystemPromptOptions? SystemPrompt { get; private init; }
    public FrozenDictionary<string, PromptTemplate> Templates { get; private init; } = FrozenDictionary<string, PromptTemplate>.Empty;
    public ParameterPolicy? Parameters { get; private init; }
    public RedactionPolicy? Redaction { get; private init; }
    public GuardrailPolicy? Guardrails { get; private init; }

    /// <summary>Compiles validated options; null when the scope configures nothing, so the hot path has nothing to look at.</summary>
    public static PromptPolicy? Compile(PromptTransformOptions? options)
    {
        if (options is null) return null;
        var policy = new PromptPolicy
        {
            SystemPrompt = options.SystemPrompt,
            Templates = options.Templates.ToFrozenDictionary(t => t.Name, PromptTemplate.Parse, StringComparer.Ordinal),
            Parameters = ParameterPolicy.Compile(options.Parameters),
            Redaction = RedactionPolicy.Compile(options.Redaction),
            Guardrails = GuardrailPolicy.Compile(options.Guardrails),
        };
        return policy.SystemPrompt is null && policy.Templates.Count == 0 && policy.Parameters is null && policy.Redaction is null && policy.Guardrails is null
            ? null
            : policy;
    }
}

/// <summary>Compiled parameter rules; values already parsed to JSON.</summary>
internal sealed class ParameterPolicy
{
    public required (string Name, JsonNode? Value)[] Defaults { get; init; }
    public required (string Name, JsonNode? Value)[] Overrides { get; init; }
    public required (string Name, double Max)[] Max { get; init; }
    public required string[] Deny { get; init; }

    public static ParameterPolicy? Compile(ParameterPolicyOptions? options)
    {
        if (options is null || options.Defaults.Count + options.Overrides.Count + options.Max.Count + options.Deny.Count == 0) return null;
        return new ParameterPolicy
        {
            Defaults = options.Defaults.Select(p => (p.Key, ParseValue(p.Value))).ToArray(),
            Overrides = options.Overrides.Select(p => (p.Key, ParseValue(p.Value))).ToArray(),
            Max = options.Max.Select(p => (p.Key, p.Value)).ToArray(),
            Deny = [.. options.Deny],
        };
    }

    /// <summary>A JSON literal (<c>0.2</c>, <c>true</c>, <c>null</c>, <c>[1]</c>) as itself; any other text as a string.</summary>
    public static JsonNode? ParseValue(string? text)
    {
        if (text is null) return null;
        try
        {
            var node = JsonNode.Parse(text);
            return node;
        }
        catch (System.Text.Json.JsonException)
        {
            return JsonValue.Create(text);
        }
    }
}

/// <summary>Compiled redaction settings.</summary>
internal sealed class RedactionPolicy
{
    public required PiiDetector[] Detectors { get; init; }
    public required bool Reject { get; init; }
    public required bool Restore { get; init; }

    public static RedactionPolicy? Compile(RedactionOptions? options)
    {
        if (options is null) return null;
        var wanted = options.Detectors ?? [.. PiiDetectors.Names];
        var builtIn = PiiDetectors.BuiltIn.Where(d => wanted.Contains(d.Name));
        var custom = options.Custom.Select(c => new PiiDetector(c.Name, PromptRegex.Create(c.Pattern)));
        // Custom patterns run first: an operator's definition of a value wins over a generic one.
        return new RedactionPolicy { Detectors = [.. custom, .. builtIn], Reject = options.Mode == "reject", Restore = options.RestoreInResponse };
    }
}

/// <summary>A compiled deny list or topic.</summary>
internal sealed class GuardrailRule
{
    public required string Name { get; init; }
    public required Regex? Keywords { get; init; }
    public required Regex? Pattern { get; init; }
    public required bool CheckOutput { get; init; }

    public bool IsMatch(string text) => Keywords?.IsMatch(text) == true || Pattern?.IsMatch(text) == true;

    /// <summary>Keywords as one case-insensitive alternation, anchored on word boundaries where the keyword has a word character at its edge.</summary>
    public static Regex? KeywordRegex(IReadOnlyList<string> keywords)
    {
        if (keywords.Count == 0) return null;
        var pattern = new StringBuilder();
        foreach (var keyword in keywords)
        {
            if (pattern.Length > 0) pattern.Append('|');
            pattern.Append(IsWord(keyword[0]) ? @"\b" : "").Append(Regex.Escape(keyword)).Append(IsWord(keyword[^1]) ? @"\b" : "");
        }
        return PromptRegex.Create(pattern.ToString(), ignoreCase: true);
    }

    private static bool IsWord(char c) => char.IsLetterOrDigit(c) || c == '_';
}

/// <summary>Compiled guardrails.</summary>
internal sealed class GuardrailPolicy
{
    public required int? MaxPromptChars { get; init; }
    public required GuardrailRule[] Rules { get; init; }

    public static GuardrailPolicy? Compile(GuardrailOptions? options)
    {
        if (options is null || (options.MaxPromptChars is null && options.Rules.Count == 0)) return null;
        return new GuardrailPolicy
        {
            MaxPromptChars = options.MaxPromptChars,
            Rules = options.Rules.Select(r => new GuardrailRule
            {
                Name = r.Name,
                Keywords = GuardrailRule.KeywordRegex(r.Keywords),
                Pattern = r.Pattern is null ? null : PromptRegex.Create(r.Pattern, ignoreCase: true),
                CheckOutput = r.CheckOutput,
            }).ToArray(),
        };
    }
}
