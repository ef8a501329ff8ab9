using AiGateway.Caching;
using AiGateway.Configuration;

namespace AiGateway.Tests.Configuration;

public sealed class CacheOptionsValidatorTests
{
    private static GatewayOptions Valid(CacheOptions? cache = null, ModelCacheOptions? model = null) => new()
    {
        Clusters = new(StringComparer.Ordinal) { ["mock"] = new ClusterOptions { Provider = "mock" } },
        Models = [new ModelOptions { Name = "echo", Deployments = [new DeploymentOptions { Cluster = "mock" }], Cache = model }],
        Cache = cache ?? new CacheOptions(),
    };

    [Fact]
    public void Validate_Defaults_NoErrors() =>
        Assert.Empty(GatewayOptionsValidator.Validate(Valid(model: new ModelCacheOptions { Enabled = true, Ttl = TimeSpan.FromMinutes(5), Scope = "shared" })));

    public static TheoryData<CacheOptions?, ModelCacheOptions?, string> Broken => new()
    {
        { new CacheOptions { Ttl = TimeSpan.Zero }, null, "cache.ttl: must be between 00:00:01 and 30.00:00:00." },
        { new CacheOptions { MaxTtl = TimeSpan.FromDays(31) }, null, "cache.maxTtl: must be between 00:00:01 and 30.00:00:00." },
        { new CacheOptions { Scope = "global" }, null, "cache.scope: 'global' is not a cache scope; use one of team, key, shared." },
        { new CacheOptions { MaxEntryBytes = 10 }, null, "cache.maxEntryBytes: must be between 1024 and 67108864." },
        { new CacheOptions { MemoryCapacityBytes = 10 }, null, "cache.memoryCapacityBytes: must be at least 1048576." },
        { new CacheOptions { MaxEntryBytes = 8 * 1024 * 1024, MemoryCapacityBytes = 2 * 1024 * 1024 }, null, "cache.memoryCapacityBytes: must be at least cache.maxEntryBytes." },
        { null, new ModelCacheOptions { Ttl = TimeSpan.FromMilliseconds(10) }, "models[0].cache.ttl: must be between 00:00:01 and 30.00:00:00." },
        { null, new ModelCacheOptions { Scope = "Team" }, "models[0].cache.scope: 'Team' is not a cache scope; use one of team, key, shared." },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void Validate_Broken_ListsTheError(CacheOptions? cache, ModelCacheOptions? model, string error) =>
        Assert.Contains(error, GatewayOptionsValidator.Validate(Valid(cache, model)));

    [Fact]
    public void Compile_ModelOverridesGlobal()
    {
        var global = new CacheOptions { Enabled = false, Ttl = TimeSpan.FromHours(2), Scope = "key" };

        Assert.Null(ModelCachePolicy.Compile(global, null));
        Assert.Equal(new ModelCachePolicy(TimeSpan.FromHours(2), CacheScope.Key, true), ModelCachePolicy.Compile(global, new ModelCacheOptions { Enabled = true }));
        Assert.Equal(new ModelCachePolicy(TimeSpan.FromMinutes(1), CacheScope.Shared, false),
            ModelCachePolicy.Compile(global with { Enabled = true }, new ModelCacheOptions { Ttl = TimeSpan.FromMinutes(1), Scope = "shared", DeterministicOnly = false }));
        Assert.Null(ModelCachePolicy.Compile(global with { Enabled = true }, new ModelCacheOptions { Enabled = false }));
    }
}
