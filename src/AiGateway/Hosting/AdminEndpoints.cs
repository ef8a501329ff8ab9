using AiGateway.Auth;
using AiGateway.Caching;
using AiGateway.Configuration;
using AiGateway.Protocol;
using AiGateway.Usage;

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
        admin.MapUsageAdmin();                              // GET /admin/v1/usage, /admin/v1/usage/records
        admin.MapFallback("{**path}", Unmatched);
        return endpoints;
    }

    /// <summary>
    /// The admin group's own fallback wins over routing's 405 for a known path called with another
    /// method, so that case is told apart here.
    /// </summary>
    private static IResult Unmatched(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var allowed = path.TrimEnd('/') switch
        {
            var p when p.Equals("/admin/v1/config", StringComparison.OrdinalIgnoreCase)
                || p.Equals("/admin/v1/usage", StringComparison.OrdinalIgnoreCase)
                || p.Equals("/admin/v1/usage/records", StringComparison.OrdinalIgnoreCase) => "GET",
            var p when p.Equals("/admin/v1/cache", StringComparison.OrdinalIgnoreCase)
                || p.StartsWith("/admin/v1/cache/models/", StringComparison.OrdinalIgnoreCase)
                || p.StartsWith("/admin/v1/cache/entries/", StringComparison.OrdinalIgnoreCase) => "DELETE",
            _ => null,
        };
        if (allowed is not null && !HttpMethods.Equals(context.Request.Method, allowed))
        {
            context.Response.Headers.Allow = allowed;
            return OpenAiError.Result(405, $"Method {context.Request.Method} is not allowed on {OpenAiError.Echo(path)}; use {allowed}.", OpenAiError.InvalidRequest, null, "method_not_allowed");
        }
        return OpenAiError.Result(404, $"Unknown admin endpoint ({context.Request.Method} {OpenAiError.Echo(path)}).", OpenAiError.InvalidRequest, null, "unknown_url");
    }
}

internal sealed record ConfigStatus(int Version, DateTimeOffset LoadedAt, IReadOnlyList<string> LastReloadErrors, IReadOnlyList<ModelStatus> Models);
internal sealed record ModelStatus(string Name, IReadOnlyList<DeploymentStatus> Deployments);
internal sealed record DeploymentStatus(string Name, string Cluster, string Provider, int Weight, bool CredentialConfigured);
