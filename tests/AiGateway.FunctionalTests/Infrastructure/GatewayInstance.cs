using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using AiGateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace AiGateway.FunctionalTests.Infrastructure;

/// <summary>A real gateway on Kestrel at a loopback port, configured from a temp file the test can rewrite.</summary>
internal sealed class GatewayInstance : IAsyncDisposable
{
    public const string Key = "sk-test-alpha-0123456789";
    public const string LimitedKey = "sk-test-limited-0123456789";
    public const string AdminKey = "admin-secret-0123456789";

    private readonly WebApplication _app;
    private readonly string _directory;

    private GatewayInstance(WebApplication app, string directory, Uri baseAddress)
    {
        _app = app;
        _directory = directory;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
    }

    public Uri BaseAddress { get; }

    /// <summary>A client that sends <see cref="Key"/>.</summary>
    public HttpClient Client { get; }

    public string ConfigPath => Path.Combine(_directory, "gateway.json");

    public IServiceProvider Services => _app.Services;

    public static Task<GatewayInstance> StartAsync(string configJson, params string[] settings) =>
        StartAsync(configJson, configure: null, settings);

    /// <summary>Starts a gateway whose services <paramref name="configure"/> may replace (e.g. a fixed <see cref="TimeProvider"/>).</summary>
    public static async Task<GatewayInstance> StartAsync(string configJson, Action<WebApplicationBuilder>? configure, params string[] settings)
    {
        var directory = Directory.CreateTempSubdirectory("aigw-test-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "gateway.json"), configJson);
        string[] args =
        [
            $"--AIGATEWAY_CONFIG={Path.Combine(directory, "gateway.json")}",
            "--urls=http://127.0.0.1:0",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:AiGateway=Warning",
            $"--AIGATEWAY_ADMIN_KEY={AdminKey}",
            $"--UsageLedger:SqlitePath={Path.Combine(directory, "usage.db")}",
            .. settings,
        ];
        var app = GatewayApp.Build(args, configure);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new GatewayInstance(app, directory, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary>Rewrites the config file, as an operator editing it would.</summary>
    public Task WriteConfigAsync(string json) => File.WriteAllTextAsync(ConfigPath, json);

    public HttpClient CreateClient(string? key)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (key is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>Stops the host as SIGTERM would (the server drains, then hosted services stop), without disposing it.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    /// <summary>Pins the clock the gateway stamps translated responses with (<c>created</c>).</summary>
    public static Action<WebApplicationBuilder> FixedClock(long unixSeconds) =>
        builder => builder.Services.AddSingleton<TimeProvider>(new FixedTimeProvider(DateTimeOffset.FromUnixTimeSeconds(unixSeconds)));

    public static string Sha256(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A clock stopped at one instant; timers still run on the system clock.</summary>
internal sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
