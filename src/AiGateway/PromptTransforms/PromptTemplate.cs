using System.Text;

namespace AiGateway.PromptTransforms;

/// <summary>
/// A parsed prompt template: messages whose text is literal runs and <c>{{variable}}</c> references.
/// Parsed once when the config is compiled, rendered per request without regular expressions.
/// </summary>
internal sealed class PromptTemplate
{
    private readonly (string Role, object[] Parts)[] _messages;

    private PromptTemplate(string name, (string Role, object[] Parts)[] messages, string[] variables)
    {
        Name = name;
        _messages = messages;
        Variables = variables;
    }

    public string Name { get; }

    /// <summary>Every variable the template uses, in order of first use.</summary>
    public string[] Variables { get; }

    public IEnumerable<(string Role, string Text)> Render(IReadOnlyDictionary<string, string> values)
    {
        var text = new StringBuilder();
        foreach (var (role, parts) in _messages)
        {
            text.Clear();
            foreach (var part in parts)
            {
                text.Append(part is Variable v ? values[v.Name] : (string)part);
            }
            yield return (role, text.ToString());
        }
    }

    public static PromptTemplate Parse(PromptTemplateOptions options)
    {
        var variables = new List<string>();
        var messages = options.Messages.Select(m =>
        {
            if (TryParseText(m.Content, out var parts, out var error))
            {
                foreach (var v in parts.OfType<Variable>()) if (!variables.Contains(v.Name)) variables.Add(v.Name);
                return (m.Role, parts.ToArray());
            }
            throw new FormatException(error);
        }).ToArray();
        return new PromptTemplate(options.Name, messages, [.. variables]);
    }

    /// <summary>Splits template text into literals and variables; <paramref name="error"/> says what is wrong otherwise.</summary>
    public static bool TryParseText(string text, out List<object> parts, out string? error)
    {
        parts = [];
        error = null;
        var position = 0;
        while (position < text.Length)
        {
            var open = text.IndexOf("{{", position, StringComparison.Ordinal);
            var close = text.IndexOf("}}", position, StringComparison.Ordinal);
            if (close >= 0 && (open < 0 || close < open))
            {
                error = $"'}}}}' at position {close} closes no '{{{{'.";
                return false;
            }
            if (open < 0)
            {
                parts.Add(text[position..]);
                break;
            }
            if (open > position) parts.Add(text[position..open]);
            var end = text.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (end < 0)
            {
                error = $"'{{{{' at position {open} is not closed with '}}}}'.";
                return false;
            }
            var name = text[(open + 2)..end].Trim();
            if (!IsVariableName(name))
            {
                error = $"'{{{{{name}}}}}' at position {open} is not a variable: names are 1 to 64 letters, digits, '_', '-' or '.'.";
                return false;
            }
            parts.Add(new Variable(name));
            position = end + 2;
        }
        return true;
    }

    private static bool IsVariableName(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');

    private sealed record Variable(string Name);
}
