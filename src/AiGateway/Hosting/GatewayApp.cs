using AiGateway.Configuration;

namespace AiGateway.Hosting;

/// <summary>Builds the gateway application; shared by <c>Program</c> and the functional tests, which run it on real Kestrel.</summary>
public static class GatewayApp
{
    /// <summary>Builds a ready-to-run gateway. Throws when the configuration is invalid.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = DefaultContentRoot(args) });
        builder.AddAiGateway();
        configure?.Invoke(builder);
        var app = builder.Build();
        app.UseAiGateway();
        return app;
    }

    /// <summary>
    /// The folder of the gateway's own files (appsettings.json) unless a content root is given. ASP.NET
    /// Core's default, the working directory, is watched recursively for appsettings changes: started from a
    /// repository or a folder that receives logs, every file written below it woke the watcher.
    /// </summary>
    private static string? DefaultContentRoot(string[] args)
    {
        var given = args.Any(a => a.StartsWith("--contentRoot", StringComparison.OrdinalIgnoreCase))
            || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_CONTENTROOT"))
            || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_CONTENTROOT"));
        return given ? null : AppContext.BaseDirectory;
    }

    /// <summary>Runs the gateway until shutdown; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        WebApplication app;
        try
        {
            app = Build(args);
        }
        catch (GatewayConfigException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 1;
        }
        try
        {
            await app.RunAsync();
        }
        catch (OperationCanceledException)
        {
            // Stopped (Ctrl+C, SIGTERM) while still starting: a normal shutdown, not a crash.
        }
        return 0;
    }
}
