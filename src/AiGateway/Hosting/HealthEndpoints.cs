using AiGateway.Configuration;

namespace AiGateway.Hosting;

/// <summary>Liveness (<c>/healthz</c>, no dependencies) and readiness (<c>/readyz</c>: config loaded, dependencies reachable).</summary>
internal static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", () => Results.Text("ok\n")).AllowAnonymous();
        endpoints.MapGet("/readyz", (GatewayConfigStore store, IServiceProvider services) =>
        {
            // Redis backs the shared limits: until it is connected, this replica would enforce nothing across replicas.
            var redis = services.GetService<RateLimiting.RedisConnection>();
            var ready = redis is null || redis.IsConnected;
            return Results.Json(
                new ReadyStatus(ready ? "ready" : "waiting for redis", store.Current.Version, store.LastReloadErrors.Count == 0),
                HostingJsonContext.Default.ReadyStatus,
                statusCode: ready ? 200 : 503);
        }).AllowAnonymous();
        return endpoints;
    }
}

internal sealed record ReadyStatus(string Status, int ConfigVersion, bool LastReloadApplied);
