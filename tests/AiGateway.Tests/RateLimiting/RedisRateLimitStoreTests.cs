using AiGateway.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using static AiGateway.Tests.RateLimiting.Limiters;

namespace AiGateway.Tests.RateLimiting;

/// <summary>The store contract against a real redis-server (real server time, so waits are real and short).</summary>
public sealed class RedisRateLimitStoreTests : AdmissionLimiterContractTests, IRequiresRedis, IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private readonly RedisServerFixture _fixture;
    private readonly string _prefix = "test" + Guid.NewGuid().ToString("N")[..8];
    private ConnectionMultiplexer? _multiplexer;
    private RedisRateLimitStore? _store;
    private AdmissionLimiter? _limiter;

    public RedisRateLimitStoreTests(RedisServerFixture fixture) => _fixture = fixture;

    private protected override IAdmissionLimiter Limiter => _limiter!;

    protected override TimeSpan RetrySlack => TimeSpan.FromMilliseconds(100);

    protected override int ConcurrencyTolerance => 2;

    public async Task InitializeAsync()
    {
        if (_fixture.Server is null)
        {
            return;
        }

        _multiplexer = await ConnectionMultiplexer.ConnectAsync(
            RedisConnection.CreateConfiguration(_fixture.Server.ConnectionString, new RateLimitOptions { RedisOperationTimeout = TimeSpan.FromSeconds(2) }));
        _store = new RedisRateLimitStore(new RedisConnection(_multiplexer, TimeSpan.FromSeconds(2)), _prefix, NullLogger<RedisRateLimitStore>.Instance);
        _limiter = Create(_store);
    }

    public async Task DisposeAsync()
    {
        if (_multiplexer is not null)
        {
            await _multiplexer.DisposeAsync();
        }
    }

    protected override Task AdvanceAsync(TimeSpan by) => Task.Delay(by);

    [RedisFact]
    public void Key_ScopeIsTheHashTag_AndBracesAreEscaped()
    {
        Assert.Equal($"{_prefix}:{{rl:key:k1}}:60000", _store!.Key(Key("k1", 1, null)));
        Assert.Equal($"{_prefix}:{{rl:team:a%7Bb%7D%25}}:1000", _store.Key(Team("a{b}%", 1, null, TimeSpan.FromSeconds(1))));
    }

    [RedisFact]
    public async Task ReserveAsync_WritesOneHashPerScopeWithExpiry()
    {
        var id = Guid.NewGuid().ToString("N");
        await Limiter.ReserveAsync([Key(id, 10, 100)], 7, default);

        var db = _multiplexer!.GetDatabase();
        var key = _store!.Key(Key(id, 10, 100));
        var fields = await db.HashGetAllAsync(key);
        Assert.Equal(2, fields.Length);
        Assert.Contains(fields, f => f.Name.ToString().StartsWith('r') && (long)f.Value == 1);
        Assert.Contains(fields, f => f.Name.ToString().StartsWith('t') && (long)f.Value == 7);
        var ttl = await db.KeyTimeToLiveAsync(key);
        Assert.InRange(ttl!.Value, TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(121));
    }

    [RedisFact]
    public async Task ReserveAsync_StaleFields_ArePruned()
    {
        var id = Guid.NewGuid().ToString("N");
        var rule = Key(id, 10, 100);
        var key = _store!.Key(rule);
        var db = _multiplexer!.GetDatabase();
        await db.HashSetAsync(key, [new("r1", 5), new("t1", 5), new("r2", 5), new("t2", 5), new("junk", 1)]);

        await Limiter.ReserveAsync([rule], 1, default);

        var names = (await db.HashKeysAsync(key)).Select(n => n.ToString()).ToArray();
        Assert.Equal(2, names.Length);
        Assert.DoesNotContain("r1", names);
    }
}
