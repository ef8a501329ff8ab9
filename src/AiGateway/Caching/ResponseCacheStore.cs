using AiGateway.Configuration;
using AiGateway.RateLimiting;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Options;

namespace AiGateway.Caching;

/// <summary>
/// The cache's storage: a <see cref="HybridCache"/> with an in-memory tier bounded by
/// <c>cache.memoryCapacityBytes</c> and, when <c>ConnectionStrings:Redis</c> is set, a Redis tier
/// shared by every replica. It lives in a service provider of its own, so its memory limit and its
/// Redis tier apply to the response cache only and nothing else in the host sees them.
/// </summary>
internal sealed class ResponseCacheStore : IAsyncDisposable
{
    /// <summary>Tag on every entry of a model, for purging by model.</summary>
    public static string ModelTag(string model) => "model:" + model;

    /// <summary>
    /// Longest time a replica keeps an entry in memory when Redis is shared: a purge on another replica
    /// reaches Redis at once and this replica's memory within this time.
    /// </summary>
    public static readonly TimeSpan SharedMemoryTtl = TimeSpan.FromMinutes(1);

    private readonly Lazy<(ServiceProvider Services, HybridCache Cache)> _storage;
    private long _writesFinished;

    /// <summary>
    /// Background stores finished (written or failed) since start. An answer reaches its client just before its
    /// entry is stored, so a client (a test) that must see the entry waits for this to move.
    /// </summary>
    public long WritesFinished => Interlocked.Read(ref _writesFinished);

    internal void WriteFinished() => Interlocked.Increment(ref _writesFinished);
    private RedisConnection? _ownedConnection;

    public ResponseCacheStore(GatewayConfigStore config, IConfiguration configuration, IServiceProvider host, CacheMetrics metrics, ILoggerFactory loggers, TimeProvider time)
    {
        var connectionString = configuration.GetConnectionString(RateLimitOptions.RedisConnectionStringName);
        HasDistributedTier = !string.IsNullOrWhiteSpace(connectionString);
        // Built on first use: a gateway that caches no model never pays for it, nor touches Redis for it.
        _storage = new(() => Build(config, connectionString, host, metrics, loggers, time));
    }

    private (ServiceProvider, HybridCache) Build(GatewayConfigStore config, string? connectionString, IServiceProvider host, CacheMetrics metrics, ILoggerFactory loggers, TimeProvider time)
    {
        var services = new ServiceCollection();
        services.AddSingleton(loggers);
        services.AddSingleton(time);
        services.AddMemoryCache(options => options.SizeLimit = config.Current.Cache.MemoryCapacityBytes);

        if (HasDistributedTier)
        {
            var rateLimit = host.GetRequiredService<IOptions<RateLimitOptions>>().Value;
            // One multiplexer per process: the rate limiter's when it uses Redis, else one of the cache's own.
            var connection = host.GetService<RedisConnection>() ?? (_ownedConnection = new RedisConnection(connectionString!, rateLimit));
            var redis = new RedisCache(Options.Create(new RedisCacheOptions
            {
                InstanceName = rateLimit.RedisKeyPrefix + ":cache:",
                ConnectionMultiplexerFactory = async () => await connection.GetAsync(),
            }));
            services.AddSingleton<IDistributedCache>(new ResilientDistributedCache(
                redis, connection.OperationTimeout, time, metrics, loggers.CreateLogger<ResponseCacheStore>()));
        }

        services.AddHybridCache(options =>
            {
                // Entry size is enforced per request from the hot-reloadable config; this is only the hard ceiling.
                options.MaximumPayloadBytes = CacheOptionsValidator.MaxEntryBytes + 1024;
                options.MaximumKeyLength = 256;
            })
            .AddSerializer<CachedResponse, CachedResponseSerializer>();
        var provider = services.BuildServiceProvider();
        return (provider, provider.GetRequiredService<HybridCache>());
    }

    public HybridCache Cache => _storage.Value.Cache;

    /// <summary>Whether entries are shared with other replicas through Redis.</summary>
    public bool HasDistributedTier { get; }

    /// <summary>Entry options for a TTL: memory holds an entry no longer than Redis does, and briefly when Redis is shared.</summary>
    public HybridCacheEntryOptions EntryOptions(TimeSpan ttl, HybridCacheEntryFlags flags = HybridCacheEntryFlags.None) => new()
    {
        Expiration = ttl,
        LocalCacheExpiration = HasDistributedTier && ttl > SharedMemoryTtl ? SharedMemoryTtl : ttl,
        Flags = flags,
    };

    public async ValueTask DisposeAsync()
    {
        if (_storage.IsValueCreated) await _storage.Value.Services.DisposeAsync();
        if (_ownedConnection is not null) await _ownedConnection.DisposeAsync();
    }
}
