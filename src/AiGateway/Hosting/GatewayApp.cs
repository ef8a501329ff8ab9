using AiGateway.Configuration;

namespace AiGateway.Hosting;

/// <summary>Builds the gateway application; shared by <c>Program</c> and the functional tests, which run it on real Kestrel.</summary>
public static class GatewayApp
{
    /// <summary>Builds a ready-to-run gateway. Throws when the configuration is invalid.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddAiGateway();
        configure?.Invoke(builder);
        var app = builder.Build();
        app.UseAiGateway();
        return app;
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
        await app.RunAsync();
        return 0;
    }
}
