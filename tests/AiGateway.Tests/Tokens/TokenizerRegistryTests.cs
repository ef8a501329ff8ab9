using AiGateway.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AiGateway.Tests.Tokens;

public class TokenizerRegistryTests
{
    [Fact]
    public void GetCounter_SameEncodingTwice_ReturnsSameInstance() =>
        Assert.Same(SharedTokenizers.Registry.GetCounter("o200k_base"), SharedTokenizers.Registry.GetCounter("o200k_base"));

    [Theory]
    [InlineData("gpt-4", null, "cl100k_base")]
    [InlineData("gpt-4o", null, "o200k_base")]
    [InlineData("my-llama", "o200k_base", "o200k_base")]
    [InlineData("gpt-4o", "cl100k_base", "cl100k_base")]
    [InlineData("gpt-4", "", "cl100k_base")]
    public void GetCounterForModel_WithOrWithoutOverride_UsesOverrideFirst(string model, string? encodingOverride, string expected) =>
        Assert.Equal(expected, SharedTokenizers.Registry.GetCounterForModel(model, encodingOverride).Encoding);

    [Fact]
    public void GetCounter_UnsupportedEncoding_ThrowsArgumentException() =>
        Assert.Throws<ArgumentException>(() => SharedTokenizers.Registry.GetCounter("p50k_base"));

    [Fact]
    public void AddTokenCounting_CalledTwice_RegistersOneRegistryAndOneWarmup()
    {
        var services = new ServiceCollection().AddLogging().AddTokenCounting().AddTokenCounting();
        using var provider = services.BuildServiceProvider();

        Assert.Single(provider.GetServices<TokenizerRegistry>());
        Assert.Single(provider.GetServices<IHostedService>().OfType<TokenizerWarmupService>());
    }

    [Fact]
    public async Task WarmupService_StartAsync_LoadsBothEncodings()
    {
        var services = new ServiceCollection().AddLogging().AddTokenCounting();
        using var provider = services.BuildServiceProvider();

        foreach (var hosted in provider.GetServices<IHostedService>())
        {
            await hosted.StartAsync(CancellationToken.None);
        }

        var registry = provider.GetRequiredService<TokenizerRegistry>();
        Assert.Equal(2, registry.GetCounter("cl100k_base").CountTokens("hello world"));
        Assert.Equal(2, registry.GetCounter("o200k_base").CountTokens("hello world"));
    }
}
