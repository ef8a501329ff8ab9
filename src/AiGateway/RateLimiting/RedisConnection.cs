using StackExchange.Redis;

namespace AiGateway.RateLimiting;

/// <summary>
/// Owns the rate limiter's <see cref="ConnectionMultiplexer"/>: connects lazily, never blocks a request
/// longer than the operation timeout, and lets StackExchange.Redis reconnect in the background.
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable, IDisposable
{
    private readonly ConfigurationOptions? _configuration;
    private readonly TimeSpan _operationTimeout;
    private readonly Lock _gate = new();
    private Task<IConnectionMultiplexer>? _connect;
    private int _clusterState; // 0 unknown, 1 standalone, 2 cluster

    public RedisConnection(string connectionString, RateLimitOptions options)
    {
        _configuration = CreateConfiguration(connectionString, options);
        _operationTimeout = options.RedisOperationTimeout;
    }

    /// <summary>Wraps a multiplexer someone else owns (tests, or a future shared connection).</summary>
    public RedisConnection(IConnectionMultiplexer multiplexer, TimeSpan operationTimeout)
    {
        _connect = Task.FromResult(multiplexer);
        _operationTimeout = operationTimeout;
    }

    public TimeSpan OperationTimeout => _operationTimeout;

    /// <summary>
    /// Settings that keep the gateway from hanging on Redis: no abort on the first failed connect (it keeps
    /// retrying), short timeouts, and fail-fast instead of queueing commands while disconnected.
    /// </summary>
    internal static ConfigurationOptions CreateConfiguration(string connectionString, RateLimitOptions options)
    {
        var configuration = ConfigurationOptions.Parse(connectionString);
        var operationMs = (int)options.RedisOperationTimeout.TotalMilliseconds;
        configuration.AbortOnConnectFail = false;
        configuration.ConnectTimeout = (int)options.RedisConnectTimeout.TotalMilliseconds;
        configuration.SyncTimeout = operationMs;
        configuration.AsyncTimeout = operationMs;
        configuration.ConnectRetry = 1;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ReconnectRetryPolicy = new ExponentialRetry(250, 5_000);
        configuration.ClientName ??= "aigateway-ratelimit";
        return configuration;
    }

    /// <summary>Begins the first connect without waiting for it, so early requests find Redis ready.</summary>
    public void StartConnecting() =>
        _ = Connect().ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>The multiplexer, or <see cref="RateLimitStoreUnavailableException"/> if the first connect is not done in time.</summary>
    public async ValueTask<IConnectionMultiplexer> GetAsync()
    {
        var connect = Connect();
        if (connect.IsCompletedSuccessfully)
        {
            return connect.Result;
        }

        try
        {
            return await connect.WaitAsync(_operationTimeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or RedisException)
        {
            throw new RateLimitStoreUnavailableException("Redis is not connected yet.", ex);
        }
    }

    private Task<IConnectionMultiplexer> Connect()
    {
        var connect = _connect;
        if (connect is null || connect.IsFaulted || connect.IsCanceled)
        {
            lock (_gate)
            {
                if (_connect is null || _connect.IsFaulted || _connect.IsCanceled)
                {
                    _connect = ConnectAsync(_configuration!);
                }

                connect = _connect;
            }
        }

        return connect;
    }

    /// <summary>Whether the first connect has completed and the multiplexer is connected now (readiness).</summary>
    public bool IsConnected => _connect is { IsCompletedSuccessfully: true } connect && connect.Result.IsConnected;

    /// <summary>Whether the servers form a Redis Cluster (then multi-key scripts must stay within one hash slot).</summary>
    public bool IsCluster(IConnectionMultiplexer multiplexer)
    {
        var known = Volatile.Read(ref _clusterState);
        if (known != 0)
        {
            return known == 2;
        }

        var cluster = false;
        foreach (var server in multiplexer.GetServers())
        {
            cluster |= server.ServerType == ServerType.Cluster;
        }

        // Only trust the answer once connected: before that every server reports Standalone.
        if (multiplexer.IsConnected)
        {
            Volatile.Write(ref _clusterState, cluster ? 2 : 1);
        }

        return cluster;
    }

    public async ValueTask DisposeAsync()
    {
        if (_configuration is not null && _connect is { } connect)
        {
            if (connect.IsCompletedSuccessfully)
            {
                await connect.Result.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                DisposeWhenConnected(connect);
            }
        }
    }

    public void Dispose()
    {
        if (_configuration is not null && _connect is { } connect)
        {
            if (connect.IsCompletedSuccessfully)
            {
                connect.Result.Dispose();
            }
            else
            {
                DisposeWhenConnected(connect);
            }
        }
    }

    private static void DisposeWhenConnected(Task<IConnectionMultiplexer> connect) =>
        connect.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);

    // On the thread pool: ConnectAsync does socket and handshake set-up synchronously before its first await,
    // which must not count against the caller's operation timeout.
    private static Task<IConnectionMultiplexer> ConnectAsync(ConfigurationOptions configuration) =>
        Task.Run(async () => (IConnectionMultiplexer)await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false));
}
