using System.Diagnostics;
using System.Net;
using AiGateway.FunctionalTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace AiGateway.FunctionalTests;

/// <summary>Spans through the in-memory exporter: the request span, its upstream attempt, and the trace context sent upstream.</summary>
public sealed class TracingTests
{
    private const string UpstreamJson = """{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-upstream","choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""";

    [Fact]
    public async Task ChatCompletion_RequestSpanHasAttemptChild_AndTraceContextGoesUpstream()
    {
        using var upstream = Upstreams.StartWireMock();
        upstream.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(UpstreamJson));
        var spans = new List<Activity>();
        await using var gateway = await GatewayInstance.StartAsync(
            TestConfig.Create(upstream.BaseUrl() + "/v1").ToJsonString(),
            builder => builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)),
            [.. TestConfig.Credentials, "--Observability:Tracing:Enabled=true"]);

        // A caller that is itself traced: the gateway continues its trace.
        var traceId = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = ProxyTests.Json("""{"model":"gpt-test","max_tokens":50,"messages":[{"role":"user","content":"Hello"}]}"""),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
        request.Headers.Add("x-request-id", "trace-test-1");
        using var client = UntracedClient(gateway);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // Spans from other gateways in this process may be exported too: only this trace counts.
        // WireMock serves on ASP.NET Core in this process too: its server span is in the trace, below the gateway's.
        var trace = await WaitForSpansAsync(spans, traceId, s => s.Kind == ActivityKind.Server && s.ParentSpanId == callerSpan);
        var server = Assert.Single(trace, s => s.Kind == ActivityKind.Server && s.ParentSpanId == callerSpan);
        Assert.Equal("POST /v1/chat/completions", server.DisplayName);
        Assert.Equal("trace-test-1", server.GetTagItem("aigateway.request_id"));
        Assert.Equal("chat", server.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("gpt-test", server.GetTagItem("gen_ai.request.model"));
        Assert.Equal("openai", server.GetTagItem("gen_ai.provider.name"));
        Assert.Equal("gpt-upstream", server.GetTagItem("gen_ai.response.model"));
        Assert.Equal("alpha", server.GetTagItem("aigateway.key.name"));
        Assert.Equal(5, server.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(2, server.GetTagItem("gen_ai.usage.output_tokens"));

        var attempt = Assert.Single(trace, s => s.Source.Name == "AiGateway");
        Assert.Equal(server.SpanId, attempt.ParentSpanId);
        Assert.Equal(ActivityKind.Client, attempt.Kind);
        Assert.Equal("chat gpt-upstream", attempt.DisplayName);
        Assert.Equal("chat", attempt.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("openai", attempt.GetTagItem("gen_ai.provider.name"));
        Assert.Equal("gpt-upstream", attempt.GetTagItem("gen_ai.request.model"));
        Assert.Equal("gpt-upstream", attempt.GetTagItem("gen_ai.response.model"));
        Assert.Equal(50, attempt.GetTagItem("gen_ai.request.max_tokens"));
        Assert.Equal(5, attempt.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(2, attempt.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal("openai/gpt-upstream", attempt.GetTagItem("aigateway.deployment"));
        Assert.Equal(1, attempt.GetTagItem("aigateway.attempt.number"));
        Assert.Equal("initial", attempt.GetTagItem("aigateway.attempt.kind"));
        Assert.Equal("trace-test-1", attempt.GetTagItem("aigateway.request_id"));
        Assert.Equal(200, attempt.GetTagItem("http.response.status_code"));

        // W3C trace context upstream: same trace, parented by the attempt (through YARP's HttpClient span), not by the caller.
        var traceparent = Assert.Single(upstream.LogEntries).RequestMessage!.Headers!["traceparent"].Single();
        var parts = traceparent.Split('-');
        Assert.Equal(traceId.ToHexString(), parts[1]);
        var httpClient = Assert.Single(trace, s => s.Kind == ActivityKind.Client && s.Source.Name != "AiGateway");
        Assert.Equal(attempt.SpanId, httpClient.ParentSpanId);
        Assert.Equal(httpClient.SpanId.ToHexString(), parts[2]);
    }

    [Fact]
    public async Task MockAnswer_AttemptSpanCarriesUsage()
    {
        var spans = new List<Activity>();
        await using var gateway = await GatewayInstance.StartAsync(
            TestConfig.Create().ToJsonString(),
            builder => builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)),
            "--Observability:Tracing:Enabled=true");
        var traceId = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = ProxyTests.Json("""{"model":"echo","stream":true,"messages":[{"role":"user","content":"one two three"}]}"""),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        using var client = UntracedClient(gateway);
        using var response = await client.SendAsync(request);
        await response.Content.ReadAsStringAsync();

        var trace = await WaitForSpansAsync(spans, traceId, s => s.Kind == ActivityKind.Server);
        var server = Assert.Single(trace, s => s.Kind == ActivityKind.Server);
        var attempt = Assert.Single(trace, s => s.Source.Name == "AiGateway");
        Assert.Equal(server.SpanId, attempt.ParentSpanId);
        Assert.Equal("mock", attempt.GetTagItem("gen_ai.provider.name"));
        Assert.Equal(3, attempt.GetTagItem("gen_ai.usage.output_tokens"));
        Assert.Equal(true, server.GetTagItem("aigateway.stream"));
    }

    [Fact]
    public async Task Probes_AreNotTraced()
    {
        var spans = new List<Activity>();
        await using var gateway = await GatewayInstance.StartAsync(
            TestConfig.Create().ToJsonString(),
            builder => builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)),
            "--Observability:Tracing:Enabled=true");
        var traceId = ActivityTraceId.CreateRandom();
        using var client = UntracedClient(gateway);
        foreach (var path in new[] { "healthz", "readyz", "metrics", "v1/models" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
            (await client.SendAsync(request)).Dispose();
        }

        var trace = await WaitForSpansAsync(spans, traceId, s => s.Kind == ActivityKind.Server);
        var server = Assert.Single(trace);
        Assert.Equal("/v1/models", server.GetTagItem("http.route"));
    }

    /// <summary>
    /// A client that sends the test's own <c>traceparent</c>: a default HttpClient in a process that has
    /// a tracer (the gateway's) would start its own trace and replace the header.
    /// </summary>
    private static HttpClient UntracedClient(GatewayInstance gateway)
    {
        var client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { BaseAddress = gateway.BaseAddress };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", GatewayInstance.Key);
        return client;
    }

    private static async Task<List<Activity>> WaitForSpansAsync(List<Activity> spans, ActivityTraceId traceId, Func<Activity, bool> last)
    {
        // The server span ends after the response reached the client.
        var waited = Stopwatch.StartNew();
        while (true)
        {
            // The exporter adds from request threads; copying (not enumerating) never sees it mid-change.
            var trace = spans.ToArray().Where(s => s is not null && s.TraceId == traceId).ToList();
            if (trace.Any(last) || waited.Elapsed > TimeSpan.FromSeconds(10)) return trace;
            await Task.Delay(50);
        }
    }
}
