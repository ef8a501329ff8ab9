using System.Diagnostics;
using System.Globalization;

namespace LoadClient;

/// <summary>Prints <c>metric\tvalue</c> lines for run.sh; every name carries <c>--prefix</c>.</summary>
internal static class Summary
{
    public static void Print(
        Options options, List<ExchangeResult> results, double elapsedSeconds, bool stream, int dropped, double? cpuMicroseconds)
    {
        var prefix = options.Optional("prefix") ?? "";
        var ok = results.Where(r => r.Ok).ToList();
        var errors = results.Count - ok.Count + dropped;
        Write(prefix, "requests", results.Count);
        Write(prefix, "errors", errors);
        Write(prefix, "rps", ok.Count / elapsedSeconds);
        Write(prefix, "p50_ms", Percentile(ok.Select(r => r.TotalTicks), 0.50));
        Write(prefix, "p99_ms", Percentile(ok.Select(r => r.TotalTicks), 0.99));
        if (cpuMicroseconds is { } cpu && results.Count > 0)
        {
            Write(prefix, "cpu_us_per_req", cpu / results.Count);
        }
        if (stream)
        {
            Write(prefix, "ttfb_p50_ms", Percentile(ok.Select(r => r.FirstEventTicks), 0.50));
            Write(prefix, "ttfb_p99_ms", Percentile(ok.Select(r => r.FirstEventTicks), 0.99));
            Write(prefix, "events_avg", ok.Count == 0 ? 0 : ok.Average(r => r.Events));
            Write(prefix, "events_min", ok.Count == 0 ? 0 : ok.Min(r => r.Events));
            Write(prefix, "events_max", ok.Count == 0 ? 0 : ok.Max(r => r.Events));
            Write(prefix, "usage_seen", ok.Count == 0 ? 0 : ok.Count(r => r.Usage) / (double)ok.Count);
        }
    }

    public static void Write(string prefix, string name, double value) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{prefix}{name}\t{value:0.###}"));

    /// <summary>Nearest-rank percentile of Stopwatch tick counts, in milliseconds.</summary>
    public static double Percentile(IEnumerable<long> ticks, double q)
    {
        var sorted = ticks.ToArray();
        if (sorted.Length == 0)
        {
            return 0;
        }

        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(q * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)] * 1000.0 / Stopwatch.Frequency;
    }
}
