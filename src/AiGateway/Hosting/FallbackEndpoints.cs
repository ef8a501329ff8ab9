using AiGateway.Protocol;

namespace AiGateway.Hosting;

/// <summary>OpenAI-shaped 404 for unknown paths and 405 for known paths called with the wrong method.</summary>
internal static class FallbackEndpoints
{
    private static readonly Dictionary<string, string> KnownPaths = new(StringComparer.OrdinalIgnoreCase)
    {
        ["/v1/chat/completions"] = "POST",
        ["/v1/completions"] = "POST",
        ["/v1/embeddings"] = "POST",
        ["/v1/models"] = "GET",
        ["/v1/messages"] = "POST",
        ["/v1/messages/count_tokens"] = "POST",
    };

    /// <summary>The gateway's own GET endpoints: probes and the Prometheus scrape (its path is configurable).</summary>
    private static readonly string[] OperationalPaths = ["/healthz", "/readyz"];

    public static IEndpointRouteBuilder MapOpenAiFallbacks(this IEndpointRouteBuilder endpoints)
    {
        var options = endpoints.ServiceProvider.GetRequiredService<Observability.ObservabilityOptions>();
        var getOnly = new HashSet<string>(OperationalPaths, StringComparer.OrdinalIgnoreCase);
        if (options.Metrics.Enabled) getOnly.Add(options.Metrics.Path);
        endpoints.MapFallback("{**path}", context => HandleAsync(context, getOnly));
        return endpoints;
    }

    private static Task HandleAsync(HttpContext context, HashSet<string> getOnly)
    {
        var path = context.Request.Path.Value ?? "/";
        var trimmed = path.Length > 1 ? path.TrimEnd('/') : path;
        var allowed = KnownPaths.GetValueOrDefault(trimmed)
            ?? (getOnly.Contains(trimmed) ? "GET" : null)
            ?? (trimmed.StartsWith("/v1/models/", StringComparison.OrdinalIgnoreCase) ? "GET" : null);
        if (allowed is not null && !HttpMethods.Equals(context.Request.Method, allowed))
        {
            context.Response.Headers.Allow = allowed;
            return OpenAiError.WriteAsync(context, 405, $"Method {context.Request.Method} is not allowed on {OpenAiError.Echo(trimmed)}; use {allowed}.", OpenAiError.InvalidRequest, null, "method_not_allowed");
        }
        return OpenAiError.WriteAsync(context, 404, $"Invalid URL ({context.Request.Method} {OpenAiError.Echo(path)}).", OpenAiError.InvalidRequest, null, "unknown_url");
    }
}
