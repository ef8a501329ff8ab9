using System.Globalization;

namespace FakeUpstream;

/// <summary>How the fake upstream answers.</summary>
/// <param name="Chunks">Content chunks per stream (default 20). A stream carries a role chunk, these,
/// a finish chunk, a usage chunk when <c>stream_options.include_usage</c> is true, then <c>[DONE]</c>.</param>
/// <param name="DelayMs">Milliseconds between two stream events (default 0: flushed back to back).</param>
/// <param name="TtfcMs">Milliseconds before the response headers and the first chunk (default 0).</param>
/// <param name="LatencyMs">Milliseconds before a non-stream response (default 0).</param>
internal sealed record ResponseShape(int Chunks, int DelayMs, int TtfcMs, int LatencyMs)
{
    private static readonly (string Query, string Header, string Env)[] Names =
    [
        ("chunks", "x-fake-chunks", "FAKE_CHUNKS"),
        ("delayMs", "x-fake-delay-ms", "FAKE_DELAY_MS"),
        ("ttfcMs", "x-fake-ttfc-ms", "FAKE_TTFC_MS"),
        ("latencyMs", "x-fake-latency-ms", "FAKE_LATENCY_MS"),
    ];

    public static ResponseShape FromEnvironment()
    {
        var shape = new ResponseShape(20, 0, 0, 0);
        return shape.With(name => Environment.GetEnvironmentVariable(Names[name].Env));
    }

    /// <summary>Query string first, then <c>x-fake-*</c> headers, then this shape.</summary>
    public ResponseShape Override(HttpRequest request)
    {
        var hasQuery = request.QueryString.HasValue;
        if (!hasQuery && !HasAnyHeader(request.Headers))
        {
            return this;
        }

        return With(name =>
        {
            var (query, header, _) = Names[name];
            var value = hasQuery ? request.Query[query].ToString() : null;
            return string.IsNullOrEmpty(value) ? request.Headers[header].ToString() : value;
        });
    }

    public ResponseShape OverrideFromQuery(IQueryCollection query) =>
        With(name => query[Names[name].Query].ToString());

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"chunks={Chunks} delayMs={DelayMs} ttfcMs={TtfcMs} latencyMs={LatencyMs}");

    private static bool HasAnyHeader(IHeaderDictionary headers)
    {
        foreach (var (_, header, _) in Names)
        {
            if (headers.ContainsKey(header))
            {
                return true;
            }
        }

        return false;
    }

    private ResponseShape With(Func<int, string?> read) => new(
        Parse(read(0), Chunks),
        Parse(read(1), DelayMs),
        Parse(read(2), TtfcMs),
        Parse(read(3), LatencyMs));

    private static int Parse(string? value, int fallback) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : fallback;
}
