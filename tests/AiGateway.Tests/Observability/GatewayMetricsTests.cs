using System.Text;
using AiGateway.Auth;
using AiGateway.Configuration;
using AiGateway.Observability;
using AiGateway.Pipeline;
using AiGateway.Protocol;
using AiGateway.Providers.Mock;
using AiGateway.Providers.OpenAI;
using AiGateway.Tests.RateLimiting;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AiGateway.Tests.Observability;

public class GatewayMetricsTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void GenAiCompleted_Stream_RecordsFirstTokenAndPerTokenFromTheClock()
    {
        using var meters = new TestMeterFactory();
        var metrics = new GatewayMetrics(meters);
        using var firstToken = new MetricCollector<double>(meters, GatewayMetrics.MeterName, "gen_ai.server.time_to_first_token");
        using var perToken = new MetricCollector<double>(meters, GatewayMetrics.MeterName, "gen_ai.server.time_per_output_token");
        using var duration = new MetricCollector<double>(meters, GatewayMetrics.MeterName, "gen_ai.client.operation.duration");
        using var overhead = new MetricCollector<double>(meters, GatewayMetrics.MeterName, "aigateway.request.overhead");
        var request = Request(stream: true);
        var telemetry = new RequestTelemetry(_time, metrics, _time.GetTimestamp());

        _time.Advance(TimeSpan.FromMilliseconds(10));            // gateway work before forwarding
        var attempt = _time.GetTimestamp();
        telemetry.BeginAttempt(request.Deployment!);
        _time.Advance(TimeSpan.FromMilliseconds(200));
        telemetry.MarkFirstEvent();                              // 210 ms after arrival
        _time.Advance(TimeSpan.FromMilliseconds(900));           // 9 more tokens at 100 ms each
        telemetry.EndAttempt(attempt, _time.GetTimestamp());
        _time.Advance(TimeSpan.FromMilliseconds(5));             // settling after the upstream
        request.Usage = new TokenUsage(20, 10, 0, UsageSource.Reported);

        metrics.GenAiCompleted(request, telemetry, _time.GetElapsedTime(telemetry.StartTimestamp), _time.GetTimestamp(), null);

        Assert.Equal(0.210, Assert.Single(firstToken.GetMeasurementSnapshot()).Value, 6);
        // From the first event to the end of the request, over the 9 tokens after the first.
        Assert.Equal(0.905 / 9, Assert.Single(perToken.GetMeasurementSnapshot()).Value, 6);
        Assert.Equal(1.115, Assert.Single(duration.GetMeasurementSnapshot()).Value, 6);
        var gatewayTime = Assert.Single(overhead.GetMeasurementSnapshot());
        Assert.Equal(0.015, gatewayTime.Value, 6);
        Assert.Equal("chat", gatewayTime.Tags["gen_ai.operation.name"]);
        Assert.Equal("openai", gatewayTime.Tags["gen_ai.provider.name"]);
        Assert.Equal("fast", gatewayTime.Tags["gen_ai.request.model"]);
        Assert.Equal("gpt-4o-mini", gatewayTime.Tags["gen_ai.response.model"]);
        Assert.Equal("c/gpt-4o-mini", gatewayTime.Tags["aigateway.deployment"]);
    }

    [Fact]
    public void GenAiCompleted_TokensAndCost_FromUsageAndPrices()
    {
        using var meters = new TestMeterFactory();
        var metrics = new GatewayMetrics(meters);
        using var tokens = new MetricCollector<long>(meters, GatewayMetrics.MeterName, "gen_ai.client.token.usage");
        using var cost = new MetricCollector<double>(meters, GatewayMetrics.MeterName, "aigateway.cost.usd");
        var request = Request(stream: false, new ModelPricing(2, 8, 1));
        request.Usage = new TokenUsage(1000, 500, 400, UsageSource.Reported);

        metrics.GenAiCompleted(request, new RequestTelemetry(_time, metrics, _time.GetTimestamp()), TimeSpan.FromSeconds(1), _time.GetTimestamp(), null);

        var measured = tokens.GetMeasurementSnapshot();
        Assert.Equal(1000, Assert.Single(measured, m => (string)m.Tags["gen_ai.token.type"]! == "input").Value);
        Assert.Equal(500, Assert.Single(measured, m => (string)m.Tags["gen_ai.token.type"]! == "output").Value);
        Assert.Equal((600 * 2 + 400 * 1 + 500 * 8) / 1_000_000d, Assert.Single(cost.GetMeasurementSnapshot()).Value, 12);
    }

    [Fact]
    public void GenAiCompleted_Error_HasErrorTypeNoResponseModelNoFirstToken()
    {
        using var meters = new TestMeterFactory();
        var metrics = new GatewayMetrics(meters);
        using var duration = new MetricCollector<double>(meters, GatewayMetrics.MeterName, "gen_ai.client.operation.duration");
        using var overhead = new MetricCollector<double>(meters, GatewayMetrics.MeterName, "aigateway.request.overhead");

        metrics.GenAiCompleted(Request(stream: true), new RequestTelemetry(_time, metrics, _time.GetTimestamp()), TimeSpan.FromMilliseconds(3), _time.GetTimestamp(), "429");

        var measurement = Assert.Single(duration.GetMeasurementSnapshot());
        Assert.Equal("429", measurement.Tags["error.type"]);
        Assert.False(measurement.Tags.ContainsKey("gen_ai.response.model"));
        // Refused before any upstream attempt: no overhead to separate from upstream time.
        Assert.Empty(overhead.GetMeasurementSnapshot());
    }

    [Fact]
    public void Embeddings_RecordInputTokensOnly()
    {
        using var meters = new TestMeterFactory();
        var metrics = new GatewayMetrics(meters);
        using var tokens = new MetricCollector<long>(meters, GatewayMetrics.MeterName, "gen_ai.client.token.usage");
        var request = Request(stream: false, operation: AiOperation.Embeddings);
        request.Usage = new TokenUsage(7, 0, 0, UsageSource.Reported);

        metrics.GenAiCompleted(request, new RequestTelemetry(_time, metrics, _time.GetTimestamp()), TimeSpan.FromSeconds(1), _time.GetTimestamp(), null);

        var measurement = Assert.Single(tokens.GetMeasurementSnapshot());
        Assert.Equal("input", measurement.Tags["gen_ai.token.type"]);
        Assert.Equal("embeddings", measurement.Tags["gen_ai.operation.name"]);
    }

    [Fact]
    public void BeginAttempt_SameDeploymentIsRetry_OtherIsFallback()
    {
        var metrics = new GatewayMetrics(new TestMeterFactory());
        var telemetry = new RequestTelemetry(_time, metrics, _time.GetTimestamp());
        var first = Request(stream: false).Deployment!;
        var other = new Deployment { Name = "mock/echo", Cluster = new UpstreamCluster { Id = "mock", Adapter = MockAdapter.Instance }, UpstreamModel = "echo", UpstreamModelJson = Deployment.EncodeJsonString("echo"), Weight = 1 };

        Assert.Equal(AttemptKind.Initial, telemetry.BeginAttempt(first));
        Assert.Equal(AttemptKind.Retry, telemetry.BeginAttempt(first));
        Assert.Equal(AttemptKind.Fallback, telemetry.BeginAttempt(other));
        Assert.Equal(3, telemetry.Attempts);
    }

    [Theory]
    [InlineData(null, "none")]
    [InlineData("", "none")]
    [InlineData("HIT", "hit")]
    [InlineData("miss", "miss")]
    [InlineData("bypass", "bypass")]
    [InlineData("stale", "stale")]
    [InlineData("sk-something-a-client-sent", "other")]
    public void CacheResults_FromHeader_MapsToFixedSet(string? header, string label) =>
        Assert.Equal(label, CacheResults.FromHeader(header));

    [Fact]
    public void Provider_UsesConventionNameForAzure()
    {
        Assert.Equal("azure.ai.openai", GenAiAttributes.Provider("azure"));
        Assert.Equal("openai", GenAiAttributes.Provider("openai"));
        Assert.Equal("200", GenAiAttributes.Status(200));
        Assert.Same(GenAiAttributes.Status(429), GenAiAttributes.Status(429));
    }

    private static AiRequest Request(bool stream, ModelPricing? pricing = null, AiOperation operation = AiOperation.ChatCompletions)
    {
        var bytes = Encoding.UTF8.GetBytes(stream ? """{"model":"fast","stream":true,"messages":[]}""" : """{"model":"fast","messages":[]}""");
        Assert.True(RequestScanner.TryScan(bytes, out var scanned, out _));
        var cluster = new UpstreamCluster { Id = "c", Adapter = OpenAiAdapter.Instance };
        var deployment = new Deployment { Name = "c/gpt-4o-mini", Cluster = cluster, UpstreamModel = "gpt-4o-mini", UpstreamModelJson = Deployment.EncodeJsonString("gpt-4o-mini"), Weight = 1 };
        return new AiRequest
        {
            Operation = operation,
            Config = null!,
            Caller = GatewayCaller.Anonymous,
            Body = bytes,
            Scanned = scanned,
            Model = new CatalogModel { Name = "fast", Deployments = [deployment], OwnedBy = "x", Encoding = "o200k_base", Pricing = pricing },
            Deployment = deployment,
        };
    }
}
