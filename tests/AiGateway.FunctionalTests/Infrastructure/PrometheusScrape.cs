using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace AiGateway.FunctionalTests.Infrastructure;

/// <summary>One sample of a Prometheus text exposition: metric name, labels and value.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool Has(params (string Label, string Value)[] labels) =>
        labels.All(l => Labels.TryGetValue(l.Label, out var v) && v == l.Value);
}

/// <summary>Parses <c>/metrics</c> (text format 0.0.4) and waits for metrics recorded after a response completed.</summary>
internal static partial class PrometheusScrape
{
    public static IReadOnlyList<PrometheusSample> Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"Unparseable exposition line: {line}");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match label in LabelPair().Matches(match.Groups["labels"].Value))
            {
                labels[label.Groups["name"].Value] = Regex.Unescape(label.Groups["value"].Value);
            }
            var value = match.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                var v => double.Parse(v, CultureInfo.InvariantCulture),
            };
            samples.Add(new PrometheusSample(match.Groups["name"].Value, labels, value));
        }
        return samples;
    }

    /// <summary>
    /// Scrapes until <paramref name="ready"/> holds: request metrics are recorded after the last byte
    /// reached the client, so a scrape right after a response may not see them yet.
    /// </summary>
    public static async Task<IReadOnlyList<PrometheusSample>> WaitAsync(HttpClient client, string path, Func<IReadOnlyList<PrometheusSample>, bool> ready)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var samples = Parse(await client.GetStringAsync(path));
            if (ready(samples)) return samples;
            if (waited.Elapsed > TimeSpan.FromSeconds(10)) return samples;
            await Task.Delay(100);
        }
    }

    public static double Sum(this IEnumerable<PrometheusSample> samples, string name, params (string Label, string Value)[] labels) =>
        samples.Where(s => s.Name == name && s.Has(labels)).Sum(s => s.Value);

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex("""(?<name>[a-zA-Z_][a-zA-Z0-9_]*)="(?<value>(\\.|[^"\\])*)",?""")]
    private static partial Regex LabelPair();
}
