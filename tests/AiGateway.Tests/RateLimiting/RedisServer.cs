using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AiGateway.Tests.RateLimiting;

/// <summary>
/// A throw-away <c>redis-server</c> on a free loopback port, no persistence, killed on dispose. Can be
/// killed and restarted on the same port to simulate an outage.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    public const string BinaryPath = "/usr/bin/redis-server";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private readonly string _directory = Directory.CreateTempSubdirectory("aigw-redis-").FullName;
    private readonly bool _cluster;
    private Process? _process;

    private RedisServer(int port, bool cluster)
    {
        Port = port;
        _cluster = cluster;
    }

    public static bool IsInstalled => File.Exists(BinaryPath);

    public static string MissingReason =>
        $"redis-server not found at {BinaryPath}: the real-Redis tests need it (apt-get install -y redis-server; the test script installs it).";

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Starts a server; <paramref name="cluster"/> makes it a one-node Redis Cluster owning all 16384 slots.</summary>
    public static async Task<RedisServer> StartAsync(bool cluster = false)
    {
        var server = new RedisServer(FreePort(), cluster);
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        var arguments = new List<string>
        {
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--save", string.Empty,
            "--appendonly", "no",
            "--dir", _directory,
            "--daemonize", "no",
            "--loglevel", "warning",
        };
        if (_cluster)
        {
            arguments.AddRange(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]);
        }

        var start = new ProcessStartInfo(BinaryPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        arguments.ForEach(start.ArgumentList.Add);
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        await WaitUntilAsync("PING", reply => reply.StartsWith("+PONG", StringComparison.Ordinal));
        if (_cluster)
        {
            var slots = await CommandAsync("CLUSTER", "ADDSLOTSRANGE", "0", "16383");
            if (!slots.StartsWith("+OK", StringComparison.Ordinal) && !slots.Contains("already busy", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("CLUSTER ADDSLOTSRANGE failed: " + slots);
            }

            await WaitUntilAsync("CLUSTER INFO", reply => reply.Contains("cluster_state:ok", StringComparison.Ordinal));
        }
    }

    /// <summary>Kills the process at once (no shutdown), like a crashed or unreachable Redis.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5_000);
        }

        _process?.Dispose();
        _process = null;
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Sends one inline command and returns the raw reply (enough for status replies and bulk strings).</summary>
    public async Task<string> CommandAsync(params string[] parts)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
        var stream = client.GetStream();
        var request = new StringBuilder().Append('*').Append(parts.Length).Append("\r\n");
        foreach (var part in parts)
        {
            request.Append('$').Append(Encoding.UTF8.GetByteCount(part)).Append("\r\n").Append(part).Append("\r\n");
        }

        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()), timeout.Token);
        var buffer = new byte[16 * 1024];
        var read = await stream.ReadAsync(buffer, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    private async Task WaitUntilAsync(string command, Func<string, bool> ready)
    {
        var deadline = Stopwatch.StartNew();
        Exception? last = null;
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process is null || _process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with code {_process?.ExitCode} on port {Port}.");
            }

            try
            {
                if (ready(await CommandAsync(command.Split(' '))))
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
            {
                last = ex;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"redis-server on port {Port} not ready after {StartTimeout}.", last);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One server shared by a test class; each test isolates itself with fresh scope ids or prefixes.</summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    public RedisServer? Server { get; private set; }

    public async Task InitializeAsync()
    {
        if (RedisServer.IsInstalled)
        {
            Server = await RedisServer.StartAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}
