using System.Text.RegularExpressions;

namespace AiGateway.FunctionalTests.Infrastructure;

/// <summary>Reads the PromQL of <c>deploy/observability/</c> and the metric and label names it references.</summary>
internal static partial class ObservabilityFiles
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "sum", "max", "min", "avg", "count", "rate", "increase", "histogram_quantile", "scalar", "vector", "by", "without", "on", "ignoring",
        "group_left", "group_right", "and", "or", "unless", "bool", "predict_linear", "topk", "bottomk", "le",
    };

    /// <summary>The <c>expr</c> values of a Prometheus rules file, inline or as <c>|</c> blocks.</summary>
    public static IEnumerable<string> RuleExpressions(string[] lines)
    {
        for (var i = 0; i < lines.Length; i++)
        {
            var trimmed = lines[i].TrimStart();
            if (!trimmed.StartsWith("expr:", StringComparison.Ordinal)) continue;
            var value = trimmed["expr:".Length..].Trim();
            if (value != "|")
            {
                yield return value;
                continue;
            }
            var indent = lines[i].Length - trimmed.Length;
            var block = new List<string>();
            while (i + 1 < lines.Length && (lines[i + 1].Trim().Length == 0 || lines[i + 1].Length - lines[i + 1].TrimStart().Length > indent))
            {
                block.Add(lines[++i].Trim());
            }
            yield return string.Join(' ', block);
        }
    }

    /// <summary>Metric names (identifiers selected as series) and label names (in selectors and <c>by (…)</c>).</summary>
    public static (HashSet<string> Metrics, HashSet<string> Labels) References(IEnumerable<string> expressions)
    {
        var metrics = new HashSet<string>(StringComparer.Ordinal);
        var labels = new HashSet<string>(StringComparer.Ordinal);
        foreach (var expression in expressions)
        {
            var withoutStrings = QuotedString().Replace(expression, "\"\"");
            foreach (Match selector in Selector().Matches(withoutStrings))
            {
                foreach (Match label in SelectorLabel().Matches(selector.Groups[1].Value)) labels.Add(label.Groups[1].Value);
            }
            foreach (Match grouping in Grouping().Matches(withoutStrings))
            {
                foreach (var label in grouping.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)) labels.Add(label);
            }
            var bare = Grouping().Replace(Selector().Replace(withoutStrings, " "), " ");
            foreach (Match identifier in Identifier().Matches(bare))
            {
                var name = identifier.Value;
                // Recording rules (level:metric:operation) are the rules file's own series.
                if (!Keywords.Contains(name) && !name.Contains(':') && !double.TryParse(name, out _)) metrics.Add(name);
            }
        }
        labels.Remove("le");
        return (metrics, labels);
    }

    [GeneratedRegex("\"(\\\\.|[^\"\\\\])*\"")]
    private static partial Regex QuotedString();

    [GeneratedRegex(@"\{([^}]*)\}")]
    private static partial Regex Selector();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)")]
    private static partial Regex SelectorLabel();

    [GeneratedRegex(@"\b(?:by|without)\s*\(([^)]*)\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<![\w$.\[])[a-zA-Z_:][a-zA-Z0-9_:]*(?![\w(])")]
    private static partial Regex Identifier();
}
