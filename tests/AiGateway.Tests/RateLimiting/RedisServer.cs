using System.Collections.Concurrent;
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
    private readonly ConcurrentQueue<string> _output = new();
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

    /// <summary>
    /// Starts a server; <paramref name="cluster"/> makes it a one-node Redis Cluster owning all 16384 slots.
    /// A free port can be taken by someone else before redis-server binds it (and a cluster node also binds
    /// its bus port, port + 10000), so a server that exits at start is tried again on fresh ports.
    /// </summary>
    public static async Task<RedisServer> StartAsync(bool cluster = false)
    {
        const int attempts = 5;
        for (var attempt = 1; ; attempt++)
        {
            var server = new RedisServer(cluster ? FreeClusterPort() : FreePort(), cluster);
            try
            {
                await server.StartAsync();
                return server;
            }
            catch (RedisExitedException) when (attempt < attempts)
            {
                await server.DisposeAsync();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
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
        _output.Clear();
        _process.OutputDataReceived += OnOutput;
        _process.ErrorDataReceived += OnOutput;
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
                _process?.WaitForExit(); // drains the redirected output
                throw new RedisExitedException(
                    $"redis-server exited with code {_process?.ExitCode} on port {Port}: {string.Join(" | ", _output)}");
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

    private void OnOutput(object sender, DataReceivedEventArgs e)
    {
        if (!string.IsNullOrWhiteSpace(e.Data) && _output.Count < 20)
        {
            _output.Enqueue(e.Data);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A port whose cluster bus port (port + 10000) is also free; both below the ephemeral range, so no outgoing connection takes them.</summary>
    private static int FreeClusterPort()
    {
        for (var i = 0; i < 100; i++)
        {
            var port = Random.Shared.Next(10_000, 22_700); // both ports below the ephemeral range (32768+)
            if (IsFree(port) && IsFree(port + 10_000))
            {
                return port;
            }
        }

        throw new InvalidOperationException("No free port pair (port, port + 10000) for a Redis Cluster node.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private sealed class RedisExitedException(string message) : InvalidOperationException(message);
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
