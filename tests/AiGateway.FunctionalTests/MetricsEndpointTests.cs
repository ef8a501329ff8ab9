using System.Net;
using AiGateway.FunctionalTests.Infrastructure;

namespace AiGateway.FunctionalTests;

public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task ManagementPort_ServesMetricsThere_AndOnlyThere()
    {
        var port = GatewayInstance.FreePort();
        await using var gateway = await GatewayInstance.StartAsync(TestConfig.Create().ToJsonString(), $"--Observability:Metrics:Port={port}");

        using var management = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        using var scrape = await management.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.StartsWith("text/plain", scrape.Content.Headers.ContentType!.ToString());

        // The client-facing address answers as for any unknown path; the API still works there.
        using var onApi = await gateway.Client.GetAsync("metrics");
        Assert.Equal(HttpStatusCode.NotFound, onApi.StatusCode);
        using var models = await gateway.Client.GetAsync("v1/models");
        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
    }

    [Fact]
    public async Task InvalidSettings_FailStartWithEveryError()
    {
        var error = await Assert.ThrowsAsync<AiGateway.Configuration.GatewayConfigException>(() => GatewayInstance.StartAsync(
            TestConfig.Create().ToJsonString(),
            "--Observability:Metrics:Path=metrics", "--Observability:Tracing:SamplingRatio=2", "--Observability:Logging:Format=xml"));
        Assert.Equal(3, error.Errors.Count);
    }
}
