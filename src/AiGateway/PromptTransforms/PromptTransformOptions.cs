namespace AiGateway.PromptTransforms;

/// <summary>
/// Prompt transforms and guardrails for one scope: the whole gateway (<c>promptTransforms</c>), a model
/// (<c>models[i].promptTransforms</c>), a team (<c>auth.teams.NAME.promptTransforms</c>) or a key
/// (<c>auth.keys[i].promptTransforms</c>). Scopes apply in that order, broadest first; every part is optional.
/// </summary>
public sealed record PromptTransformOptions
{
    /// <summary>An operator system prompt put before, after or instead of the client's. Optional.</summary>
    public SystemPromptOptions? SystemPrompt { get; init; }

    /// <summary>Named prompt templates clients render with <c>"aigateway": {"template", "variables"}</c>. Default none.</summary>
    public List<PromptTemplateOptions> Templates { get; init; } = [];

    /// <summary>Defaults, overrides, caps and denied request parameters. Optional.</summary>
    public ParameterPolicyOptions? Parameters { get; init; }

    /// <summary>PII and secret redaction in prompts. Optional: without it nothing is redacted.</summary>
    public RedactionOptions? Redaction { get; init; }

    /// <summary>Deny lists, topics and prompt size limits. Optional.</summary>
    public GuardrailOptions? Guardrails { get; init; }
}

/// <summary>An operator system prompt.</summary>
public sealed record SystemPromptOptions
{
    /// <summary><c>prepend</c> (default), <c>append</c> or <c>replace</c> the client's system prompt.</summary>
    public string Mode { get; init; } = "prepend";

    /// <summary>The text.</summary>
    public string Text { get; init; } = "";
}

/// <summary>A named template: messages whose text may hold <c>{{variable}}</c> placeholders.</summary>
public sealed record PromptTemplateOptions
{
    /// <summary>The name clients send as <c>aigateway.template</c>.</summary>
    public string Name { get; init; } = "";

    /// <summary>The rendered messages, put before the client's own messages.</summary>
    public List<TemplateMessageOptions> Messages { get; init; } = [];
}

/// <summary>One message of a template.</summary>
public sealed record TemplateMessageOptions
{
    /// <summary><c>system</c>, <c>user</c> or <c>assistant</c>. Default <c>user</c>.</summary>
    public string Role { get; init; } = "user";

    /// <summary>Text with <c>{{name}}</c> variables (letters, digits, <c>_</c>, <c>-</c>, <c>.</c>).</summary>
    public string Content { get; init; } = "";
}

/// <summary>
/// Rules for top-level request parameters. Values are JSON literals written as strings or numbers
/// (<c>"0.2"</c>, <c>"true"</c>, <c>"null"</c>); anything that is not a JSON literal is sent as a string.
/// </summary>
public sealed record ParameterPolicyOptions
{
    /// <summary>Set when the client did not send the parameter. Default none.</summary>
    public Dictionary<string, string> Defaults { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Always set, replacing the client's value. Default none.</summary>
    public Dictionary<string, string> Overrides { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Numeric caps: a larger value the client sent is lowered to the cap (e.g. <c>max_tokens</c>). Default none.</summary>
    public Dictionary<string, double> Max { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Parameters a request must not carry; sending one is a 400 naming it. Default none.</summary>
    public List<string> Deny { get; init; } = [];
}

/// <summary>Redaction of personal data and secrets in prompts.</summary>
public sealed record RedactionOptions
{
    /// <summary><c>mask</c> (default: replace with stable placeholders like <c>[EMAIL_1]</c>) or <c>reject</c> (400).</summary>
    public string Mode { get; init; } = "mask";

    /// <summary>
    /// Built-in detectors to run: <c>email</c>, <c>phone</c>, <c>credit_card</c>, <c>iban</c>, <c>ip_address</c>,
    /// <c>api_key</c>, <c>aws_key</c>, <c>private_key</c>, <c>jwt</c>. Default: all of them.
    /// </summary>
    public List<string>? Detectors { get; init; }

    /// <summary>Extra patterns by name (regular expressions, run with <c>RegexOptions.NonBacktracking</c>). Default none.</summary>
    public List<NamedPatternOptions> Custom { get; init; } = [];

    /// <summary>Put the original values back into non-streamed JSON answers. Default <c>false</c>.</summary>
    public bool RestoreInResponse { get; init; }
}

/// <summary>A named regular expression.</summary>
public sealed record NamedPatternOptions
{
    /// <summary>Name used in placeholders and errors: letters, digits and <c>_</c>.</summary>
    public string Name { get; init; } = "";

    /// <summary>The regular expression (.NET syntax without backreferences or lookarounds).</summary>
    public string Pattern { get; init; } = "";
}

/// <summary>Content rules: a violation is a 400 <c>content_policy_violation</c> naming the rule, never the matched text.</summary>
public sealed record GuardrailOptions
{
    /// <summary>Largest prompt accepted, in characters of message text. Optional.</summary>
    public int? MaxPromptChars { get; init; }

    /// <summary>Deny lists and topics. Default none.</summary>
    public List<GuardrailRuleOptions> Rules { get; init; } = [];
}

/// <summary>One deny list or topic: keywords (whole words, case-insensitive), a regular expression, or both.</summary>
public sealed record GuardrailRuleOptions
{
    /// <summary>The rule's name, reported in the error.</summary>
    public string Name { get; init; } = "";

    /// <summary>Words or phrases that trip the rule, matched case-insensitively on word boundaries. Default none.</summary>
    public List<string> Keywords { get; init; } = [];

    /// <summary>A regular expression that trips the rule (case-insensitive, <c>NonBacktracking</c>). Optional.</summary>
    public string? Pattern { get; init; }

    /// <summary>Also check streamed answers, ending the stream with an error event on a match. Default <c>false</c>.</summary>
    public bool CheckOutput { get; init; }
}
