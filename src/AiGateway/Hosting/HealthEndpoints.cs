using AiGateway.Configuration;

namespace AiGateway.Hosting;

/// <summary>Liveness (<c>/healthz</c>, no dependencies) and readiness (<c>/readyz</c>: config loaded, dependencies reachable).</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", () => Results.Text("ok\n")).AllowAnonymous();
        endpoints.MapGet("/readyz", (GatewayConfigStore store) => Results.Json(
            new ReadyStatus("ready", store.Current.Version, store.LastReloadErrors.Count == 0),
            HostingJsonContext.Default.ReadyStatus)).AllowAnonymous();
        return endpoints;
    }
}

internal sealed record ReadyStatus(string Status, int ConfigVersion, bool LastReloadApplied);
