using AiGateway.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AiGateway.Tests.RateLimiting;

public class RateLimitingRegistrationTests
{
    [Theory]
    [InlineData(null, null, typeof(InMemoryRateLimitStore))]
    [InlineData("127.0.0.1:6399", null, typeof(RedisRateLimitStore))]
    [InlineData("127.0.0.1:6399", "InMemory", typeof(InMemoryRateLimitStore))]
    [InlineData("127.0.0.1:6399", "Redis", typeof(RedisRateLimitStore))]
    public void AddAiRateLimiting_RedisConnectionString_SelectsStore(string? redis, string? store, Type expected)
    {
        using var provider = Build(new() { ["ConnectionStrings:Redis"] = redis, ["RateLimiting:Store"] = store });

        Assert.IsType(expected, provider.GetRequiredService<IRateLimitStore>());
        Assert.IsType<AdmissionLimiter>(provider.GetRequiredService<IAdmissionLimiter>());
    }

    [Fact]
    public void AddAiRateLimiting_BindsOptions()
    {
        using var provider = Build(new()
        {
            ["RateLimiting:FailureMode"] = "FailClosed",
            ["RateLimiting:RedisOperationTimeout"] = "00:00:00.100",
            ["RateLimiting:RedisKeyPrefix"] = "gw",
        });

        var options = provider.GetRequiredService<IOptions<RateLimitOptions>>().Value;

        Assert.Equal(RateLimitFailureMode.FailClosed, options.FailureMode);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.RedisOperationTimeout);
        Assert.Equal("gw", options.RedisKeyPrefix);
    }

    [Fact]
    public void AddAiRateLimiting_InvalidOptions_FailsListingEveryError()
    {
        using var provider = Build(new()
        {
            ["RateLimiting:Store"] = "Redis",
            ["RateLimiting:RedisOperationTimeout"] = "00:00:00",
            ["RateLimiting:RedisKeyPrefix"] = "a{b}",
        });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<RateLimitOptions>>().Value);

        Assert.Equal(3, error.Failures.Count());
        Assert.Contains(error.Failures, f => f.Contains("ConnectionStrings:Redis", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("RedisOperationTimeout", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("RedisKeyPrefix", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_Defaults_Succeed()
    {
        var validator = new RateLimitOptionsValidator(new ConfigurationBuilder().Build());

        Assert.True(validator.Validate(null, new RateLimitOptions()).Succeeded);
    }

    [Fact]
    public void CreateConfiguration_AppliesTimeoutsAndNeverAbortsOnConnectFail()
    {
        var options = new RateLimitOptions { RedisOperationTimeout = TimeSpan.FromMilliseconds(150), RedisConnectTimeout = TimeSpan.FromSeconds(1) };

        var configuration = RedisConnection.CreateConfiguration("127.0.0.1:6399,abortConnect=true", options);

        Assert.False(configuration.AbortOnConnectFail);
        Assert.Equal(150, configuration.AsyncTimeout);
        Assert.Equal(150, configuration.SyncTimeout);
        Assert.Equal(1_000, configuration.ConnectTimeout);
        Assert.Equal(StackExchange.Redis.BacklogPolicy.FailFast, configuration.BacklogPolicy);
    }

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddAiRateLimiting(configuration);
        return services.BuildServiceProvider();
    }
}
