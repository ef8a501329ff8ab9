using System.Globalization;

namespace LoadClient;

/// <summary><c>--name value</c> pairs; <c>-H "Name: value"</c> may repeat.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public List<KeyValuePair<string, string>> Headers { get; } = [];

    public static Options Parse(ReadOnlySpan<string> args)
    {
        var options = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-') || i + 1 >= args.Length)
            {
                throw new ArgumentException($"expected '--name value', got '{arg}'");
            }

            var value = args[++i];
            if (arg == "-H")
            {
                var colon = value.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    throw new ArgumentException($"header '{value}' has no ':'");
                }

                options.Headers.Add(new(value[..colon].Trim(), value[(colon + 1)..].Trim()));
            }
            else
            {
                options._values[arg.TrimStart('-')] = value;
            }
        }

        return options;
    }

    public string String(string name, string? fallback = null) =>
        _values.TryGetValue(name, out var value) ? value
        : fallback ?? throw new ArgumentException($"--{name} is required");

    public string? Optional(string name) => _values.GetValueOrDefault(name);

    public double Number(string name, double? fallback = null) =>
        _values.TryGetValue(name, out var value)
            ? double.Parse(value, CultureInfo.InvariantCulture)
            : fallback ?? throw new ArgumentException($"--{name} is required");

    public bool Flag(string name) => _values.TryGetValue(name, out var value) && value is "1" or "true";
}
