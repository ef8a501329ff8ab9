namespace AiGateway.Observability;

/// <summary>Telemetry settings, section <c>Observability</c>. Read once at start-up.</summary>
internal sealed record ObservabilityOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Observability";

    /// <summary>The Prometheus endpoint.</summary>
    public MetricsEndpointOptions Metrics { get; init; } = new();

    /// <summary>Distributed tracing.</summary>
    public TracingOptions Tracing { get; init; } = new();

    /// <summary>Console logging.</summary>
    public LoggingOptions Logging { get; init; } = new();

    /// <summary>Every problem with the settings, as <c>Observability:…</c> paths.</summary>
    public List<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrEmpty(Metrics.Path) || Metrics.Path[0] != '/' || Metrics.Path.Length > 1 && Metrics.Path.EndsWith('/'))
        {
            errors.Add($"{SectionName}:Metrics:Path must start with '/' and not end with one (was '{Metrics.Path}').");
        }
        if (Metrics.Port is < 1 or > 65535)
        {
            errors.Add($"{SectionName}:Metrics:Port must be between 1 and 65535 (was {Metrics.Port}).");
        }
        if (!(Tracing.SamplingRatio is >= 0 and <= 1))
        {
            errors.Add($"{SectionName}:Tracing:SamplingRatio must be between 0 and 1 (was {Tracing.SamplingRatio}).");
        }
        if (Logging.Format is not (LogFormats.Json or LogFormats.Simple))
        {
            errors.Add($"{SectionName}:Logging:Format must be '{LogFormats.Json}' or '{LogFormats.Simple}' (was '{Logging.Format}').");
        }
        return errors;
    }
}

/// <summary>Where Prometheus scrapes.</summary>
internal sealed record MetricsEndpointOptions
{
    /// <summary>Serve the Prometheus endpoint. Default <c>true</c>.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Path of the Prometheus endpoint. Default <c>/metrics</c>.</summary>
    public string Path { get; init; } = "/metrics";

    /// <summary>
    /// A separate management port that alone serves the endpoint (and is added to the addresses the
    /// gateway listens on), so metrics need not be exposed where clients call. Default: none, the
    /// endpoint is on the gateway's own addresses.
    /// </summary>
    public int? Port { get; init; }

    /// <summary>
    /// Also export ASP.NET Core's and HttpClient's own HTTP metrics (<c>http.server.*</c>, <c>http.client.*</c>,
    /// <c>kestrel.*</c>). Default <c>false</c>: the gateway's request and GenAI metrics already cover requests, and
    /// measured on the benchmark these instruments cost about as much CPU per request as the rest of the pipeline.
    /// </summary>
    public bool FrameworkInstrumentation { get; init; }
}

/// <summary>Distributed tracing settings.</summary>
internal sealed record TracingOptions
{
    /// <summary>
    /// Record spans. Default: on when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (spans with nowhere to
    /// go cost CPU for nothing), off otherwise. The <c>traceparent</c> of an incoming request is
    /// propagated upstream either way.
    /// </summary>
    public bool? Enabled { get; init; }

    /// <summary>Share of new traces recorded, 0 to 1; a sampled parent (incoming <c>traceparent</c>) is always followed. Default 1.</summary>
    public double SamplingRatio { get; init; } = 1;
}

/// <summary>Console logging settings. Levels are the standard <c>Logging:LogLevel</c> ones.</summary>
internal sealed record LoggingOptions
{
    /// <summary><c>json</c> (one JSON object per line, for log collectors) or <c>simple</c> (text, for people). Default <c>json</c>.</summary>
    public string Format { get; init; } = LogFormats.Json;
}

internal static class LogFormats
{
    public const string Json = "json";
    public const string Simple = "simple";
}
