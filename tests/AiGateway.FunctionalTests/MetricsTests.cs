using System.Net;
using System.Text.Json.Nodes;
using AiGateway.FunctionalTests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace AiGateway.FunctionalTests;

/// <summary>
/// Runs alone: every gateway in this process feeds every listener of a meter name, so traffic of tests
/// running alongside would be counted here.
/// </summary>
[CollectionDefinition(nameof(SerialMetrics), DisableParallelization = true)]
public sealed class SerialMetrics;

/// <summary>
/// Traffic through a real gateway (mock and WireMock upstreams, JSON and streams, a rate-limit rejection,
/// an unknown model, probes), then <c>/metrics</c> scraped and checked name by name, label by label.
/// </summary>
[Collection(nameof(SerialMetrics))]
public sealed class MetricsTests(MetricsTests.TrafficFixture traffic) : IClassFixture<MetricsTests.TrafficFixture>
{
    private const string Chat = "/v1/chat/completions";

    [Fact]
    public void TokenUsage_MatchesTheUsageClientsReceived()
    {
        var samples = traffic.Samples;
        var echo = Labels("echo", "mock", "mock/echo-1", "echo-1");
        Assert.Equal(2 * traffic.EchoJson.Prompt + traffic.EchoStream.Prompt, samples.Sum("gen_ai_client_token_usage_sum", [.. echo, ("gen_ai_token_type", "input")]));
        Assert.Equal(2 * traffic.EchoJson.Completion + traffic.EchoStream.Completion, samples.Sum("gen_ai_client_token_usage_sum", [.. echo, ("gen_ai_token_type", "output")]));
        Assert.Equal(3, samples.Sum("gen_ai_client_token_usage_count", [.. echo, ("gen_ai_token_type", "input")]));

        var openai = Labels("gpt-test", "openai", "openai/gpt-upstream", "gpt-upstream");
        Assert.Equal(11 + 9, samples.Sum("gen_ai_client_token_usage_sum", [.. openai, ("gen_ai_token_type", "input")]));
        Assert.Equal(7 + 3, samples.Sum("gen_ai_client_token_usage_sum", [.. openai, ("gen_ai_token_type", "output")]));
        Assert.Equal(2, samples.Sum("gen_ai_client_operation_duration_seconds_count", openai));
    }

    [Fact]
    public void Requests_CountedByRouteModelStatusAndCache()
    {
        var samples = traffic.Samples;
        Assert.Equal(3, samples.Sum("aigateway_requests_total", ("http_route", Chat), ("gen_ai_request_model", "echo"), ("aigateway_deployment", "mock/echo-1"), ("http_response_status_code", "200"), ("aigateway_cache_result", "none")));
        Assert.Equal(1, samples.Sum("aigateway_requests_total", ("http_route", Chat), ("gen_ai_request_model", "echo"), ("http_response_status_code", "429")));
        Assert.Equal(2, samples.Sum("aigateway_requests_total", ("http_route", Chat), ("gen_ai_request_model", "gpt-test"), ("http_response_status_code", "200")));
        Assert.Equal(1, samples.Sum("aigateway_requests_total", ("http_route", "/v1/models"), ("http_response_status_code", "200")));

        // The unknown model is counted without a model label: a name the client made up is not a label value.
        var notFound = Assert.Single(samples, s => s.Name == "aigateway_requests_total" && s.Has(("http_response_status_code", "404")));
        Assert.False(notFound.Labels.ContainsKey("gen_ai_request_model"));

        // Probes and scrapes are not requests worth counting.
        Assert.DoesNotContain(samples, s => s.Name == "aigateway_requests_total" && s.Labels["http_route"] is "/healthz" or "/readyz" or "/metrics");

        Assert.Equal(0, samples.Sum("aigateway_requests_active"));
        Assert.Equal(0, samples.Sum("aigateway_streams_active"));
    }

    [Fact]
    public void Errors_CarryErrorTypeAndNoResponseModel()
    {
        var rejected = Assert.Single(traffic.Samples, s => s.Name == "gen_ai_client_operation_duration_seconds_count" && s.Has(("error_type", "429")));
        Assert.Equal(1, rejected.Value);
        Assert.Equal("echo", rejected.Labels["gen_ai_request_model"]);
        Assert.False(rejected.Labels.ContainsKey("gen_ai_response_model"));
        Assert.Equal(1, traffic.Samples.Sum("aigateway_ratelimit_rejections_total", ("scope", "key"), ("dimension", "requests")));
    }

    [Fact]
    public void Streams_RecordTimeToFirstTokenAndTimePerOutputToken()
    {
        var samples = traffic.Samples;
        Assert.Equal(1, samples.Sum("gen_ai_server_time_to_first_token_seconds_count", ("gen_ai_request_model", "echo")));
        Assert.Equal(1, samples.Sum("gen_ai_server_time_to_first_token_seconds_count", ("gen_ai_request_model", "gpt-test")));
        Assert.Equal(2, samples.Sum("gen_ai_server_time_per_output_token_seconds_count"));
        Assert.True(samples.Sum("gen_ai_server_time_to_first_token_seconds_sum", ("gen_ai_request_model", "gpt-test")) > 0);
    }

    [Fact]
    public void Upstream_AttemptsFirstByteAndOverhead()
    {
        var samples = traffic.Samples;
        Assert.Equal(2, samples.Sum("aigateway_upstream_attempts_total", ("aigateway_deployment", "openai/gpt-upstream"), ("aigateway_attempt_kind", "initial"), ("http_response_status_code", "200"), ("gen_ai_provider_name", "openai")));
        Assert.Equal(3, samples.Sum("aigateway_upstream_attempts_total", ("aigateway_deployment", "mock/echo-1"), ("aigateway_attempt_kind", "initial")));
        Assert.Equal(2, samples.Sum("aigateway_upstream_time_to_first_byte_seconds_count", ("aigateway_deployment", "openai/gpt-upstream")));
        // Overhead is measured for requests that reached an upstream: not for the one rejected by the limit.
        Assert.Equal(5, samples.Sum("aigateway_request_overhead_seconds_count"));
        var overhead = samples.Sum("aigateway_request_overhead_seconds_sum");
        var total = samples.Sum("gen_ai_client_operation_duration_seconds_sum");
        Assert.InRange(overhead, 0, total);
        Assert.Equal(0, samples.Sum("aigateway_breaker_state", ("aigateway_deployment", "openai/gpt-upstream")));
    }

    [Fact]
    public void Cost_FollowsCatalogPricesAndUsage()
    {
        // gpt-test: input 2, cached input 1, output 8 USD per million. JSON: 11 prompt (4 cached), 7 completion; stream: 9 and 3.
        var expected = ((11 - 4) * 2.0 + 4 * 1.0 + 7 * 8.0 + 9 * 2.0 + 3 * 8.0) / 1_000_000;
        Assert.Equal(expected, traffic.Samples.Sum("aigateway_cost_usd_total", ("gen_ai_request_model", "gpt-test"), ("aigateway_deployment", "openai/gpt-upstream")), 12);
        // echo has no prices: no cost series at all.
        Assert.DoesNotContain(traffic.Samples, s => s.Name == "aigateway_cost_usd_total" && s.Has(("gen_ai_request_model", "echo")));
    }

    [Fact]
    public void Labels_NeverCarryKeysOrKeyNames()
    {
        Assert.DoesNotContain(GatewayInstance.Key, traffic.Text);
        Assert.DoesNotContain(GatewayInstance.LimitedKey, traffic.Text);
        Assert.DoesNotContain(TestConfig.OpenAiKey, traffic.Text);
        Assert.DoesNotContain(traffic.Samples, s => s.Labels.Values.Any(v => v is "alpha" or "limited" || v.Contains("Hello metrics", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task DashboardAndAlerts_ReferenceOnlyExportedMetricsAndLabels()
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "deploy", "observability");
        var expressions = new List<string>();
        foreach (var panel in JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(directory, "aigateway-dashboard.json")))!["panels"]!.AsArray())
        {
            expressions.AddRange(panel!["targets"]?.AsArray().Select(t => t!["expr"]!.GetValue<string>()) ?? []);
        }
        var dashboardCount = expressions.Count;
        expressions.AddRange(ObservabilityFiles.RuleExpressions(await File.ReadAllLinesAsync(Path.Combine(directory, "aigateway-alerts.yaml"))));
        Assert.True(dashboardCount >= 15 && expressions.Count > dashboardCount + 5, "the dashboard and the rules should both have been read");

        var metricNames = traffic.Samples.Select(s => s.Name).ToHashSet();
        var labelNames = traffic.Samples.SelectMany(s => s.Labels.Keys).ToHashSet();
        var (metrics, labels) = ObservabilityFiles.References(expressions);

        Assert.Subset(metricNames, metrics);
        Assert.Subset(labelNames, labels);
        // Every family the issue asks the dashboards and alerts to cover is referenced.
        Assert.Superset(new HashSet<string>
        {
            "aigateway_requests_total", "aigateway_requests_active", "aigateway_streams_active", "aigateway_ratelimit_rejections_total",
            "aigateway_breaker_state", "aigateway_cost_usd_total", "aigateway_upstream_attempts_total", "aigateway_request_overhead_seconds_bucket",
            "gen_ai_client_operation_duration_seconds_bucket", "gen_ai_server_time_to_first_token_seconds_bucket", "gen_ai_client_token_usage_sum",
        }, metrics);
    }

    private static (string, string)[] Labels(string model, string provider, string deployment, string responseModel) =>
    [
        ("gen_ai_request_model", model), ("gen_ai_provider_name", provider), ("aigateway_deployment", deployment),
        ("gen_ai_response_model", responseModel), ("gen_ai_operation_name", "chat"),
    ];

    public sealed record Usage(int Prompt, int Completion);

    /// <summary>Runs the traffic once and keeps the scrape for every test of the class.</summary>
    public sealed class TrafficFixture : IAsyncLifetime
    {
        private const string UpstreamJson = """{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-upstream","choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18,"prompt_tokens_details":{"cached_tokens":4}}}""";
        private const string UpstreamStream =
            "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-upstream\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"a b\"},\"finish_reason\":null}]}\n\n" +
            "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-upstream\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" c\"},\"finish_reason\":\"stop\"}]}\n\n" +
            "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-upstream\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12}}\n\n" +
            "data: [DONE]\n\n";

        private WireMockServer _openai = null!;
        private GatewayInstance _gateway = null!;

        internal IReadOnlyList<PrometheusSample> Samples { get; private set; } = [];
        public string Text { get; private set; } = "";
        public Usage EchoJson { get; private set; } = new(0, 0);
        public Usage EchoStream { get; private set; } = new(0, 0);

        public async Task InitializeAsync()
        {
            _openai = Upstreams.StartWireMock();
            _openai.Given(Request.Create().WithPath("/v1/chat/completions").WithBody(b => b is not null && b.Contains("\"stream\":true")).UsingPost())
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(UpstreamStream));
            _openai.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost()).AtPriority(100)
                .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(UpstreamJson));

            var config = TestConfig.Create(_openai.BaseUrl() + "/v1");
            var gpt = config["models"]!.AsArray().Single(m => m!["name"]!.GetValue<string>() == "gpt-test")!;
            gpt["pricing"] = new JsonObject { ["inputPerMillion"] = 2, ["outputPerMillion"] = 8, ["cachedInputPerMillion"] = 1 };
            var limited = config["auth"]!["keys"]!.AsArray().Single(k => k!["name"]!.GetValue<string>() == "limited")!;
            limited["rateLimit"] = new JsonObject { ["requestsPerMinute"] = 1 };
            _gateway = await GatewayInstance.StartAsync(config.ToJsonString(), TestConfig.Credentials);

            const string EchoBody = """{"model":"echo","messages":[{"role":"user","content":"Hello metrics one two"}]}""";
            EchoJson = ReadUsage(JsonNode.Parse(await PostAsync(_gateway.Client, EchoBody, HttpStatusCode.OK))!);
            var stream = await PostAsync(_gateway.Client, """{"model":"echo","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hello metrics streamed"}]}""", HttpStatusCode.OK);
            EchoStream = ReadUsage(stream.Split("\n\n").Where(e => e.StartsWith("data: {", StringComparison.Ordinal)).Select(e => JsonNode.Parse(e[6..])!).Last());
            await PostAsync(_gateway.Client, """{"model":"gpt-test","messages":[{"role":"user","content":"Hello metrics"}]}""", HttpStatusCode.OK);
            await PostAsync(_gateway.Client, """{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"Hello metrics"}]}""", HttpStatusCode.OK);
            using (var limitedClient = _gateway.CreateClient(GatewayInstance.LimitedKey))
            {
                await PostAsync(limitedClient, EchoBody, HttpStatusCode.OK);
                await PostAsync(limitedClient, EchoBody, HttpStatusCode.TooManyRequests);
            }
            await PostAsync(_gateway.Client, """{"model":"no-such-model","messages":[]}""", HttpStatusCode.NotFound);
            Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.GetAsync("v1/models")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.GetAsync("healthz")).StatusCode);

            Samples = await PrometheusScrape.WaitAsync(_gateway.Client, "metrics", s => s.Sum("aigateway_requests_total") >= 8 && s.Sum("aigateway_requests_active") == 0);
            Text = await _gateway.Client.GetStringAsync("metrics");
        }

        public async Task DisposeAsync()
        {
            await _gateway.DisposeAsync();
            _openai.Stop();
        }

        private static async Task<string> PostAsync(HttpClient client, string body, HttpStatusCode expected)
        {
            using var response = await client.PostAsync("v1/chat/completions", ProxyTests.Json(body));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(expected == response.StatusCode, $"{response.StatusCode}: {text}");
            return text;
        }

        private static Usage ReadUsage(JsonNode node) =>
            new(node["usage"]!["prompt_tokens"]!.GetValue<int>(), node["usage"]!["completion_tokens"]!.GetValue<int>());
    }
}
