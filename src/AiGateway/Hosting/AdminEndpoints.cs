using AiGateway.Auth;
using AiGateway.Caching;
using AiGateway.Configuration;

namespace AiGateway.Hosting;

/// <summary>The admin API under <c>/admin/v1</c>, open only to the admin credential.</summary>
internal static class AdminEndpoints
{
    public const string Policy = "admin";

    public static IEndpointRouteBuilder MapAdmin(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/admin").RequireAuthorization(Policy);
        admin.MapGet("/v1/config", (GatewayConfigStore store) => Results.Json(new ConfigStatus(
            store.Current.Version,
            store.LoadedAt,
            store.LastReloadErrors,
            store.Current.ModelList.Select(m => new ModelStatus(m.Name, m.Deployments.Select(d => new DeploymentStatus(d.Name, d.Cluster.Id, d.Cluster.Adapter.Name, d.Weight, d.Cluster.CredentialProblem is null)).ToList())).ToList()),
            HostingJsonContext.Default.ConfigStatus));
        admin.MapCacheAdmin();                              // DELETE /admin/v1/cache[/models/{model}|/entries/{key}]
        admin.MapFallback("{**path}", () => Results.Json(new AdminError("Unknown admin endpoint."), HostingJsonContext.Default.AdminError, statusCode: 404));
        return endpoints;
    }
}

internal sealed record ConfigStatus(int Version, DateTimeOffset LoadedAt, IReadOnlyList<string> LastReloadErrors, IReadOnlyList<ModelStatus> Models);
internal sealed record ModelStatus(string Name, IReadOnlyList<DeploymentStatus> Deployments);
internal sealed record DeploymentStatus(string Name, string Cluster, string Provider, int Weight, bool CredentialConfigured);
internal sealed record AdminError(string Message);
