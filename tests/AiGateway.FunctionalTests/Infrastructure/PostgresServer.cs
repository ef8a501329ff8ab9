using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace AiGateway.FunctionalTests.Infrastructure;

/// <summary>
/// A throw-away PostgreSQL server (Debian's binaries) in a temporary folder on a free loopback port, trust
/// authentication, fsync off (a killed server keeps what it committed, the OS still holds it; commits stay
/// synchronous, or an immediate stop would lose the last ones). Run as the <c>postgres</c> user when the tests run as root (PostgreSQL
/// refuses root). Can be stopped at once and started again on the same port, like a database outage.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _bin;

    private PostgresServer(string bin, string directory, int port)
    {
        _bin = bin;
        _directory = directory;
        Port = port;
    }

    /// <summary>The newest installed server's binaries, or null.</summary>
    public static string? BinDirectory =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderByDescending(d => d, StringComparer.Ordinal).FirstOrDefault()
            : null;

    public static string MissingReason =>
        "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: the usage-ledger tests need them (apt-get install -y postgresql; the test script installs it).";

    public int Port { get; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=true;Timeout=3;Command Timeout=5";

    private static bool IsRoot => Environment.UserName == "root";

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = BinDirectory ?? throw new InvalidOperationException(MissingReason);
        var directory = Directory.CreateTempSubdirectory("aigw-pg-").FullName;
        if (IsRoot) await RunAsync("chown", ["postgres", directory], asPostgres: false);
        await RunAsync(Path.Combine(bin, "initdb"), ["-D", Path.Combine(directory, "data"), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"], asPostgres: true);
        for (var attempt = 1; ; attempt++)
        {
            var server = new PostgresServer(bin, directory, FreePort());
            try
            {
                await server.RestartAsync();
                return server;
            }
            catch (InvalidOperationException) when (attempt < 5)
            {
                // The port was taken between the check and the bind: try another.
            }
        }
    }

    /// <summary>Starts (again) on its port.</summary>
    public Task RestartAsync() => RunAsync(Path.Combine(_bin, "pg_ctl"),
        ["-D", Path.Combine(_directory, "data"), "-l", Path.Combine(_directory, "log"), "-w", "-t", "30",
         "-o", $"-p {Port} -k {_directory} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
        asPostgres: true);

    /// <summary>Stops at once (no clean shutdown), like a crashed database.</summary>
    public Task StopAsync() => RunAsync(Path.Combine(_bin, "pg_ctl"), ["-D", Path.Combine(_directory, "data"), "-m", "immediate", "-w", "stop"], asPostgres: true);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task RunAsync(string program, string[] arguments, bool asPostgres)
    {
        var start = asPostgres && IsRoot
            ? new ProcessStartInfo("runuser") { ArgumentList = { "-u", "postgres", "--", program } }
            : new ProcessStartInfo(program);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await output} {await error}");
        }
    }

    /// <summary>
    /// A free port above the ephemeral range (32768–60999), so no outgoing connection takes it before the server
    /// binds it, and apart from the Redis test servers' range (below it).
    /// </summary>
    private static int FreePort()
    {
        for (var i = 0; i < 100; i++)
        {
            var port = Random.Shared.Next(61_000, 65_000);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException("No free port for PostgreSQL.");
    }
}
