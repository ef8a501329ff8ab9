using AiGateway.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AiGateway.Observability;

/// <summary>
/// Registers the gateway's telemetry: OpenTelemetry metrics (the gateway's meters, ASP.NET Core,
/// HttpClient) exported to Prometheus and, when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, over OTLP
/// with traces and logs; JSON lines on standard output (<see cref="JsonLinesLoggerProvider"/>).
/// </summary>
internal static class ObservabilityHostExtensions
{
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ServiceNameKey = "OTEL_SERVICE_NAME";

    /// <summary>Meters exported: the gateway's own, one per feature, each named <c>AiGateway[.Feature]</c>.</summary>
    private static readonly string[] Meters = [GatewayMetrics.MeterName, GatewayMetrics.MeterName + ".*"];

    public static WebApplicationBuilder AddGatewayObservability(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(ObservabilityOptions.SectionName).Get<ObservabilityOptions>() ?? new ObservabilityOptions();
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new GatewayConfigException(errors);
        }

        var services = builder.Services;
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<GatewayMetrics>();
        services.TryAddSingleton<ResilienceMetrics>();

        if (options.Logging.Format == LogFormats.Json)
        {
            // The framework's console logger is replaced, not configured: see JsonLinesLoggerProvider for why.
            for (var i = services.Count - 1; i >= 0; i--)
            {
                if (services[i].ServiceType == typeof(ILoggerProvider) && services[i].ImplementationType == typeof(Microsoft.Extensions.Logging.Console.ConsoleLoggerProvider))
                {
                    services.RemoveAt(i);
                }
            }
            services.AddSingleton<ILoggerProvider>(sp => new JsonLinesLoggerProvider(Console.OpenStandardOutput(), sp.GetRequiredService<TimeProvider>()));
        }

        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointKey]);
        var metricsPath = new PathString(options.Metrics.Path);
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Configuration[ServiceNameKey] ?? "aigateway"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Meters).SetExemplarFilter(ExemplarFilterType.AlwaysOff);
                if (options.Metrics.FrameworkInstrumentation) metrics.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation();
                if (options.Metrics.Enabled) metrics.AddPrometheusExporter();
            });
        if (options.Tracing.Enabled ?? otlp)
        {
            telemetry.WithTracing(tracing => tracing
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.Tracing.SamplingRatio)))
                .AddSource(UpstreamAttempts.ActivitySourceName)
                .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = context => !RequestTelemetryMiddleware.IsOperational(context.Request.Path, metricsPath))
                .AddHttpClientInstrumentation());
        }
        if (otlp)
        {
            telemetry.WithLogging();
            telemetry.UseOtlpExporter();
        }

        if (options.Metrics.Enabled && options.Metrics.Port is { } port)
        {
            AddManagementPort(builder, port);
        }
        return builder;
    }

    /// <summary>Maps the Prometheus endpoint; with a management port, only requests to that port reach it.</summary>
    public static IEndpointRouteBuilder MapGatewayMetrics(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<ObservabilityOptions>();
        if (!options.Metrics.Enabled) return endpoints;
        // GET only: other methods get the OpenAI-shaped 405 of the fallback endpoint.
        var endpoint = endpoints.MapPrometheusScrapingEndpoint(options.Metrics.Path).WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]));
        if (options.Metrics.Port is { } port) endpoint.RequireHost($"*:{port}");
        return endpoints;
    }

    /// <summary>
    /// Adds the management port to the addresses Kestrel listens on, keeping the configured ones
    /// (<c>urls</c>, <c>http_ports</c>, else ASP.NET Core's default). Endpoints configured under
    /// <c>Kestrel:Endpoints</c> replace all of these; list the management port there in that case.
    /// </summary>
    private static void AddManagementPort(WebApplicationBuilder builder, int port)
    {
        var urls = builder.Configuration[WebHostDefaults.ServerUrlsKey];
        if (string.IsNullOrWhiteSpace(urls))
        {
            var httpPorts = builder.Configuration[WebHostDefaults.HttpPortsKey];
            urls = string.IsNullOrWhiteSpace(httpPorts)
                ? "http://localhost:5000"
                : string.Join(';', httpPorts.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => $"http://*:{p}"));
        }
        builder.WebHost.UseUrls($"{urls};http://*:{port}");
    }
}
