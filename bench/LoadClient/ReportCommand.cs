using System.Globalization;
using System.Text;

namespace LoadClient;

/// <summary>Turns run.sh's <c>target\tround\tmetric\tvalue</c> lines into the markdown tables.
/// Each figure is the median over rounds; error counts are summed.</summary>
internal static class ReportCommand
{
    private static readonly string[] Order = ["direct", "yarp", "nginx", "gateway", "gateway-cache", "portkey"];

    private static readonly Dictionary<string, string> Names = new(StringComparer.Ordinal)
    {
        ["direct"] = "direct (no proxy)",
        ["yarp"] = "plain YARP 2.3.0",
        ["nginx"] = "nginx",
        ["gateway"] = "AiGateway",
        ["gateway-cache"] = "AiGateway, cache hit",
        ["portkey"] = "Portkey 1.15.2",
    };

    /// <summary><c>report --input results.tsv --output latest.md</c></summary>
    public static int Run(Options options)
    {
        var meta = new List<(string Key, string Value)>();
        var notes = new List<string>();
        var values = new Dictionary<(string Target, string Metric), List<double>>();
        foreach (var line in File.ReadLines(options.String("input")))
        {
            var parts = line.Split('\t');
            if (parts is ["#meta", var key, var value])
            {
                meta.Add((key, value));
            }
            else if (parts is ["#note", var note])
            {
                notes.Add(note);
            }
            else if (parts.Length == 4 && double.TryParse(parts[3], CultureInfo.InvariantCulture, out var number))
            {
                var slot = (parts[0], parts[2]);
                if (!values.TryGetValue(slot, out var list))
                {
                    values[slot] = list = [];
                }

                list.Add(number);
            }
        }

        var report = new Report(values);
        var markdown = report.Render(meta, notes);
        File.WriteAllText(options.String("output"), markdown);
        Console.Write(markdown);
        return 0;
    }

    private sealed class Report(Dictionary<(string Target, string Metric), List<double>> values)
    {
        private readonly StringBuilder _out = new();

        private IEnumerable<string> Targets =>
            Order.Where(t => values.Keys.Any(k => k.Target == t));

        public string Render(List<(string Key, string Value)> meta, List<string> notes)
        {
            Line("# AiGateway benchmark");
            Line();
            foreach (var (key, value) in meta)
            {
                Line($"- **{key}**: {value}");
            }

            foreach (var note in notes)
            {
                Line($"- _{note}_");
            }

            Line();
            Line("## Non-streaming chat completions");
            Line();
            Line("| target | req/s | ÷ direct | ÷ plain YARP | p50 ms | p99 ms | CPU µs/req | fixed-rate p50 ms | fixed-rate p99 ms | p50 added vs direct | errors |");
            Line("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
            foreach (var t in Targets)
            {
                Line($"| {Names[t]} | {F(Get(t, "rps"), 0)} | {Ratio(t, "direct", "rps")} | {Ratio(t, "yarp", "rps")} | {F(Get(t, "p50_ms"), 2)} | {F(Get(t, "p99_ms"), 2)} | {F(Get(t, "cpu_us_per_req"), 1)} | {F(Get(t, "rate_p50_ms"), 2)} | {F(Get(t, "rate_p99_ms"), 2)} | {Delta(t, "direct", "rate_p50_ms", 2)} | {Sum(t, "errors") + Sum(t, "rate_errors")} |");
            }

            Line();
            Line("## Streaming chat completions (SSE, fixed rate)");
            Line();
            Line("| target | TTFB p50 ms | TTFB p99 ms | TTFB added vs direct | TTFB added vs plain YARP | CPU µs/stream | events/stream | usage chunk seen | errors |");
            Line("|---|--:|--:|--:|--:|--:|--:|--:|--:|");
            foreach (var t in Targets)
            {
                Line($"| {Names[t]} | {F(Get(t, "stream_ttfb_p50_ms"), 2)} | {F(Get(t, "stream_ttfb_p99_ms"), 2)} | {Delta(t, "direct", "stream_ttfb_p50_ms", 2)} | {Delta(t, "yarp", "stream_ttfb_p50_ms", 2)} | {F(Get(t, "stream_cpu_us_per_req"), 0)} | {F(Get(t, "stream_events_avg"), 1)} | {Percent(Get(t, "stream_usage_seen"))} | {Sum(t, "stream_errors")} |");
            }

            Line();
            Line("## Memory and warm-up");
            Line();
            Line("| target | peak RSS MB (after the rounds) | RSS MB with slow streams open | streams open at once | errors | warm-up s to steady CPU/req |");
            Line("|---|--:|--:|--:|--:|--:|");
            foreach (var t in Targets)
            {
                Line($"| {Names[t]} | {F(Get(t, "peak_rss_mb"), 0)} | {F(Get(t, "hold_rss_mb"), 0)} | {F(Get(t, "hold_concurrent"), 0)} | {Sum(t, "hold_errors")} | {F(Get(t, "warmup_s"), 0)} |");
            }

            RenderTargets();
            return _out.ToString();
        }

        private void RenderTargets()
        {
            if (!values.Keys.Any(k => k.Target == "gateway"))
            {
                return;
            }

            Line();
            Line("## Issue 3 targets");
            Line();
            Line("| figure | target | measured | verdict |");
            Line("|---|---|--:|---|");
            var cpu = Minus("gateway", "yarp", "cpu_us_per_req");
            Verdict("CPU per request over plain YARP", "≤ +20 µs", cpu, v => $"{v:+0.0;-0.0} µs", v => v <= 20);
            var rps = Divide("gateway", "yarp", "rps");
            Verdict("req/s ÷ plain YARP", "≥ 0.8", rps, v => $"{v:0.00}", v => v >= 0.8);
            var ttfb = Minus("gateway", "yarp", "stream_ttfb_p50_ms");
            Verdict("streaming TTFB over plain YARP (p50)", "≤ +1 ms", ttfb, v => $"{v:+0.00;-0.00} ms", v => v <= 1);
            var rss = Get("gateway", "hold_rss_mb");
            var held = Get("gateway", "hold_concurrent") ?? 0;
            var holdErrors = Sum("gateway", "hold_errors");
            if (held >= 5000)
            {
                Verdict("5,000 concurrent streams: RSS, errors", "< 1 GB, 0 errors", rss,
                    v => $"{v:0} MB, {holdErrors} errors", v => v < 1024 && holdErrors == 0);
            }
            else
            {
                Line(string.Create(CultureInfo.InvariantCulture,
                    $"| 5,000 concurrent streams: RSS, errors | < 1 GB, 0 errors | {F(rss, 0)} MB, {holdErrors} errors with {held:0} streams | not measured at 5,000 |"));
            }

            var portkey = Divide("gateway", "portkey", "rps");
            Verdict("req/s ÷ Portkey", "≥ 15", portkey, v => $"{v:0.0}", v => v >= 15);

            // Issue 6: a cache hit should cost less CPU than plain YARP forwarding the same request.
            var hit = Minus("gateway-cache", "yarp", "cpu_us_per_req");
            Verdict("cache hit CPU per request vs plain YARP forwarding", "< +0 µs", hit, v => $"{v:+0.0;-0.0} µs", v => v < 0);
        }

        private void Verdict(string figure, string target, double? value, Func<double, string> format, Func<double, bool> pass) =>
            Line(value is { } v
                ? string.Create(CultureInfo.InvariantCulture, $"| {figure} | {target} | {format(v)} | {(pass(v) ? "met" : "**missed**")} |")
                : $"| {figure} | {target} | n/a | not measured |");

        private double? Get(string target, string metric)
        {
            if (!values.TryGetValue((target, metric), out var list) || list.Count == 0)
            {
                return null;
            }

            var sorted = list.Order().ToArray();
            var mid = sorted.Length / 2;
            return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
        }

        private long Sum(string target, string metric) =>
            values.TryGetValue((target, metric), out var list) ? (long)list.Sum() : 0;

        private double? Minus(string target, string baseline, string metric) =>
            Get(target, metric) is { } a && Get(baseline, metric) is { } b ? a - b : null;

        private double? Divide(string target, string baseline, string metric) =>
            Get(target, metric) is { } a && Get(baseline, metric) is { } b && b > 0 ? a / b : null;

        private string Ratio(string target, string baseline, string metric) =>
            target == baseline ? "1.00" : F(Divide(target, baseline, metric), 2);

        private string Delta(string target, string baseline, string metric, int decimals) =>
            target == baseline ? "—" : Minus(target, baseline, metric) is { } d
                ? d.ToString((d >= 0 ? "+" : "") + "0." + new string('0', decimals), CultureInfo.InvariantCulture)
                : "n/a";

        private static string F(double? value, int decimals) =>
            value is { } v ? v.ToString(decimals == 0 ? "#,0" : "0." + new string('0', decimals), CultureInfo.InvariantCulture) : "n/a";

        private static string Percent(double? value) =>
            value is { } v ? v.ToString("0%", CultureInfo.InvariantCulture) : "n/a";

        private void Line(string text = "") => _out.Append(text).Append('\n');
    }
}
