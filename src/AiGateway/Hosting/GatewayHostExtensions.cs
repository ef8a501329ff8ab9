using AiGateway.Auth;
using AiGateway.Caching;
using AiGateway.Configuration;
using AiGateway.Observability;
using AiGateway.Pipeline;
using AiGateway.Providers.Anthropic;
using AiGateway.Providers.Mock;
using AiGateway.RateLimiting;
using AiGateway.Tokens;
using AiGateway.Transforms;
using AiGateway.Usage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Yarp.ReverseProxy.Configuration;

namespace AiGateway.Hosting;

/// <summary>Registration and the request pipeline of the gateway. Registration only registers; the order lives in <see cref="UseAiGateway"/>.</summary>
internal static class GatewayHostExtensions
{
    public const string ConfigPathKey = "AIGATEWAY_CONFIG";
    public const string ConfigPollKey = "AIGATEWAY_CONFIG_POLL";
    public const string DevKeyKey = "AIGATEWAY_DEV_KEY";
    public const string DefaultConfigPath = "config/gateway.json";

    /// <summary>Adds the gateway's config file (<c>AIGATEWAY_CONFIG</c> or <c>config/gateway.json</c>) as a reloadable source.</summary>
    public static WebApplicationBuilder AddGatewayConfigFile(this WebApplicationBuilder builder)
    {
        var configured = builder.Configuration[ConfigPathKey];
        var path = configured is not null ? Path.GetFullPath(configured) : FindDefaultConfig();
        if (!File.Exists(path))
        {
            throw new GatewayConfigException([$"{path}: the config file does not exist. Set {ConfigPathKey} to its path, or run from the directory that holds {DefaultConfigPath}."]);
        }
        var poll = bool.TryParse(builder.Configuration[ConfigPollKey], out var p) && p;
        var source = GatewayConfigFileSource.Create(path, poll);

        // Insert before the environment-variable and command-line sources so AiGateway__… overrides still win.
        var sources = builder.Configuration.Sources;
        var index = sources.ToList().FindIndex(s => s is Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationSource);
        if (index < 0) index = sources.Count;
        sources.Insert(index, source);
        return builder;
    }

    /// <summary>
    /// <c>config/gateway.json</c> in the working directory or the nearest parent that has one, so both
    /// the container (<c>/app</c>) and <c>dotnet run --project src/AiGateway</c> (which runs in the
    /// project folder) find the repository's config.
    /// </summary>
    private static string FindDefaultConfig()
    {
        for (var directory = new DirectoryInfo(Environment.CurrentDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, DefaultConfigPath);
            if (File.Exists(candidate)) return candidate;
        }
        return Path.GetFullPath(DefaultConfigPath);
    }

    public static WebApplicationBuilder AddAiGateway(this WebApplicationBuilder builder)
    {
        builder.AddGatewayConfigFile();
        var services = builder.Services;

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<GatewayConfigStore>();
        services.AddSingleton<MockResponder>();
        services.AddTokenCounting();
        services.AddSingleton<Resilience.DeploymentHealth>();
        services.AddSingleton<Resilience.DeploymentBalancer>();
        services.AddSingleton<Yarp.ReverseProxy.Health.IPassiveHealthCheckPolicy, Resilience.GatewayPassiveHealthPolicy>();
        services.AddSingleton<Yarp.ReverseProxy.Health.IProbingRequestFactory, Resilience.ProviderProbeRequestFactory>();
        services.AddSingleton<Yarp.ReverseProxy.Forwarder.IForwarderHttpClientFactory, Resilience.GatewayHttpClientFactory>();
        services.AddAiRateLimiting(builder.Configuration);
        services.AddResponseCache();
        services.AddAnthropicSurface();
        builder.AddGatewayObservability();
        builder.AddUsageLedger();
        services.AddSingleton(sp =>
        {
            var configured = builder.Configuration[DevKeyKey];
            var value = !string.IsNullOrWhiteSpace(configured) ? configured.Trim()
                : builder.Environment.IsDevelopment() ? DevelopmentKey.Generate() : null;
            return new DevelopmentKey(value);
        });

        services.AddSingleton<GatewayKeyAuthenticator>();
        services.AddSingleton<ErrorHandler>();
        // No default authenticate scheme: the proxy routes authenticate in their first step
        // (ModelResolutionMiddleware), and the other endpoints name their scheme in their policy.
        services.AddAuthentication(auth => auth.DefaultChallengeScheme = GatewayKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, GatewayKeyAuthenticationHandler>(GatewayKeyAuthenticationHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, AdminAuthenticationHandler>(AdminAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .SetDefaultPolicy(new AuthorizationPolicyBuilder(GatewayKeyAuthenticationHandler.SchemeName).RequireAuthenticatedUser().Build())
            .AddPolicy(AdminEndpoints.Policy, policy => policy.AddAuthenticationSchemes(AdminAuthenticationHandler.SchemeName).RequireRole("admin"));

        services.AddSingleton<GatewayProxyConfigProvider>();
        services.AddSingleton<IProxyConfigProvider>(sp => sp.GetRequiredService<GatewayProxyConfigProvider>());
        services.AddReverseProxy().AddTransforms<ProviderTransformProvider>();

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Bodies are bounded per request by the gateway's own (hot-reloadable) limit.
            kestrel.Limits.MaxRequestBodySize = GatewayOptionsValidator.MaxBodyBytes;
        });
        return builder;
    }

    public static WebApplication UseAiGateway(this WebApplication app)
    {
        // Fail fast: build the config now so a bad file stops start-up with every error listed.
        app.Services.GetRequiredService<GatewayConfigStore>();
        var devKey = app.Services.GetRequiredService<DevelopmentKey>();
        if (devKey.Value is not null && app.Services.GetRequiredService<GatewayConfigStore>().Current.KeysBySha256.Count == 0)
        {
            // Printed for the person starting the gateway, deliberately not logged: logs never carry keys.
            Console.WriteLine($"AiGateway: no keys configured; development key for this process: {devKey.Value}");
        }

        app.UseMiddleware<CorrelationMiddleware>();        // x-request-id accepted or generated, returned on every response
        app.UseRouting();
        // Metrics, span attributes, one log line per request (not /metrics, probes), and the one OpenAI-shaped
        // error writer (ErrorHandler) for whatever escapes below. Only the two steps above run outside it: the
        // id check cannot throw, and routing throws only for a broken route table, which the gateway builds itself.
        app.UseMiddleware<RequestTelemetryMiddleware>();
        // Gateway keys (hashed) and the admin key, for the gateway's own endpoints. The proxy routes skip both
        // middlewares: they authenticate in their first step (ModelResolutionMiddleware) with the same authenticator,
        // and the two middlewares around an anonymous policy cost every proxied request ≈ 2.5 µs of CPU for nothing.
        app.UseWhen(static context => !IsProxyRoute(context), auth =>
        {
            auth.UseAuthentication();
            auth.UseAuthorization();
        });
        // WebApplication adds both middlewares in front of everything when the app's own builder never called them
        // (a branch's calls are not seen); these are the markers UseAuthentication/UseAuthorization set. Were they
        // ever renamed, the cost would come back, not a hole: the proxy routes do not rely on these middlewares.
        ((IApplicationBuilder)app).Properties["__AuthenticationMiddlewareSet"] = true;
        ((IApplicationBuilder)app).Properties["__AuthorizationMiddlewareSet"] = true;

        app.MapHealth();                                    // /healthz, /readyz
        app.MapGatewayMetrics();                            // /metrics for Prometheus, optionally on a management port
        app.MapModels();                                    // /v1/models from the catalog
        app.MapAdmin();                                     // /admin/v1/*, admin key only
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<ModelResolutionMiddleware>(); // gateway key → parse body once → model → authorize → first deployment
            proxy.UseMiddleware<PromptTransforms.PromptTransformsMiddleware>(); // template, system prompt, parameters, guardrails, redaction; before counting so limits see what the upstream sees
            proxy.UseMiddleware<TokenAdmissionMiddleware>();  // count prompt, context window, reserve RPM/TPM; settle after
            proxy.UseMiddleware<ResponseCacheMiddleware>();   // hit → write or replay SSE, stop; miss → tee the answer into the cache
            proxy.UseMiddleware<Resilience.FailoverMiddleware>(); // per attempt: provider body, cluster; retry / next deployment / fallback before the first byte; mock answered here
            proxy.UseLoadBalancing();                         // YARP picks a destination within the cluster
            proxy.UsePassiveHealthChecks();                   // (the failover step records each attempt's span, count and timing around these)
        });
        app.MapOpenAiFallbacks();                           // OpenAI-shaped 404 / 405
        return app;
    }

    /// <summary>Whether routing matched one of YARP's routes (every proxy route carries its <see cref="Yarp.ReverseProxy.Model.RouteModel"/>).</summary>
    internal static bool IsProxyRoute(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<Yarp.ReverseProxy.Model.RouteModel>() is not null;
}
