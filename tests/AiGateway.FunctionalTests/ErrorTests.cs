using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiGateway.FunctionalTests.Infrastructure;

namespace AiGateway.FunctionalTests;

public sealed class ErrorTests : IAsyncLifetime
{
    private GatewayInstance _gateway = null!;
    private ScriptedUpstream _slow = null!;

    public async Task InitializeAsync()
    {
        _slow = await ScriptedUpstream.StartAsync(async context =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
        });
        var config = TestConfig.Create(openAiBase: $"http://127.0.0.1:{GatewayInstance.FreePort()}/v1");
        var clusters = config["clusters"]!.AsObject();
        clusters["slow"] = new JsonObject
        {
            ["provider"] = "openai",
            ["activityTimeout"] = "00:00:00.500",
            ["destinations"] = new JsonObject { ["d1"] = new JsonObject { ["address"] = _slow.BaseUrl } },
        };
        clusters["nokey"] = new JsonObject
        {
            ["provider"] = "openai",
            ["apiKey"] = "env:TEST_UNSET_VARIABLE_XYZ",
            ["destinations"] = new JsonObject { ["d1"] = new JsonObject { ["address"] = _slow.BaseUrl } },
        };
        var models = config["models"]!.AsArray();
        models.Add(new JsonObject { ["name"] = "slow-model", ["deployments"] = new JsonArray { new JsonObject { ["cluster"] = "slow" } } });
        models.Add(new JsonObject { ["name"] = "nokey-model", ["deployments"] = new JsonArray { new JsonObject { ["cluster"] = "nokey" } } });
        config["limits"] = new JsonObject { ["maxRequestBodyBytes"] = 4096 };
        _gateway = await GatewayInstance.StartAsync(config.ToJsonString(), TestConfig.Credentials);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _slow.DisposeAsync();
    }

    public static TheoryData<string, string?, int, string?, string?> BadRequests => new()
    {
        { "{not json", "application/json", 400, null, "invalid_json" },
        { "", "application/json", 400, null, "invalid_json" },
        { "[1,2]", "application/json", 400, null, "invalid_json" },
        { """{"model":"echo"} trailing""", "application/json", 400, null, "invalid_json" },
        { """{"messages":[]}""", "application/json", 400, "model", "invalid_value" },
        { """{"model":42,"messages":[]}""", "application/json", 400, "model", "invalid_value" },
        { """{"model":null}""", "application/json", 400, "model", "invalid_value" },
        { """{"model":""}""", "application/json", 400, "model", "invalid_value" },
        { """{"model":"echo","model":"gpt-test"}""", "application/json", 400, "model", "invalid_value" },
        { """{"model":"echo","stream":"yes"}""", "application/json", 400, "stream", "invalid_value" },
        { """{"model":"echo","max_tokens":-1}""", "application/json", 400, "max_tokens", "invalid_value" },
        { """{"model":"echo","messages":[]}""", "text/plain", 400, null, "invalid_content_type" },
        { """{"model":"echo","messages":[]}""", null, 400, null, "invalid_content_type" },
        { """{"model":"no-such-model","messages":[]}""", "application/json", 404, "model", "model_not_found" },
        { """{"model":"echo","messages":"hi"}""", "application/json", 400, "messages", "invalid_type" },
        { new string('[', 5000), "application/json", 413, null, "request_too_large" },
        { "{\"model\":\"echo\",\"x\":" + new string('[', 200) + new string(']', 200) + "}", "application/json", 400, null, "invalid_json" },
        { """{"model":"echo","messages":[{"role":"user","content":"hi"}],"x":""" + new string('[', 100) + new string(']', 100) + "}", "application/json", 400, null, "invalid_json" },
        { """{"model":"echo","messages":[{"role":"user","content":"a\udc00b"}]}""", "application/json", 400, null, "invalid_json" },
        { """{"model":"echo","messages":[{"role":"user","content":"a\ud800"}],"stream":true}""", "application/json", 400, null, "invalid_json" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task ChatCompletions_BadInput_ReturnsOpenAiError(string body, string? contentType, int status, string? param, string? code)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType is not null) content.Headers.ContentType = new MediaTypeHeaderValue(contentType);

        using var response = await _gateway.Client.PostAsync("v1/chat/completions", content);

        await AssertErrorAsync(response, status, param, code);
    }

    [Fact]
    public async Task ChatCompletions_InvalidUtf8InMessages_Returns400()
    {
        byte[] body = [.. """{"model":"echo","messages":[{"role":"user","content":"h"""u8, 0xFF, 0xFE, .. "\"}]}"u8];
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await _gateway.Client.PostAsync("v1/chat/completions", content);

        await AssertErrorAsync(response, 400, null, "invalid_json");
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("br")]
    public async Task ChatCompletions_CompressedBody_Returns415(string encoding)
    {
        var content = ProxyTests.Json("""{"model":"echo","messages":[{"role":"user","content":"hi"}]}""");
        content.Headers.ContentEncoding.Add(encoding);

        using var response = await _gateway.Client.PostAsync("v1/chat/completions", content);

        await AssertErrorAsync(response, 415, null, "unsupported_content_encoding");
    }

    [Fact]
    public async Task ChatCompletions_ChunkedBodyOverLimit_Returns413()
    {
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"model\":\"echo\",\"pad\":\"" + new string('a', 10_000) + "\"}")));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await _gateway.Client.SendAsync(request);

        await AssertErrorAsync(response, 413, null, "request_too_large");
    }

    [Theory]
    [InlineData(null, "You didn't provide an API key")]
    [InlineData("sk-wrong", "Incorrect API key provided")]
    public async Task ChatCompletions_MissingOrBadKey_Returns401(string? key, string message)
    {
        using var client = _gateway.CreateClient(key);

        using var response = await client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"echo","messages":[]}"""));

        var error = await AssertErrorAsync(response, 401, null, "invalid_api_key");
        Assert.StartsWith(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("sk-wrong", error.ToString(), StringComparison.Ordinal);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
    }

    [Theory]
    [InlineData("v1/chat/completions")]
    [InlineData("v1/embeddings")]
    [InlineData("v1/models")]
    public async Task AnyRoute_BadKeyEvenWithInvalidBody_Returns401Before400(string path)
    {
        using var client = _gateway.CreateClient("sk-wrong");

        // The key is checked before the body is looked at: a caller without a key learns nothing about the API.
        using var response = path == "v1/models" ? await client.GetAsync(path) : await client.PostAsync(path, ProxyTests.Json("{not json"));

        await AssertErrorAsync(response, 401, null, "invalid_api_key");
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
    }

    [Fact]
    public async Task ChatCompletions_ModelNotAllowedForKey_Returns403()
    {
        using var client = _gateway.CreateClient(GatewayInstance.LimitedKey);

        using var response = await client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"gpt-test","messages":[]}"""));

        await AssertErrorAsync(response, 403, "model", "model_not_allowed");
    }

    [Fact]
    public async Task ChatCompletions_UpstreamUnreachable_Returns502()
    {
        using var response = await _gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"gpt-test","messages":[]}"""));

        var error = await AssertErrorAsync(response, 502, null, "upstream_unreachable");
        Assert.DoesNotContain("127.0.0.1", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatCompletions_UpstreamSilent_Returns504()
    {
        using var response = await _gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"slow-model","messages":[]}"""));

        await AssertErrorAsync(response, 504, null, "upstream_timeout");
    }

    [Fact]
    public async Task ChatCompletions_DeploymentCredentialMissing_Returns503WithoutNamingSecrets()
    {
        using var response = await _gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"nokey-model","messages":[]}"""));

        var error = await AssertErrorAsync(response, 503, null, "deployment_unavailable");
        Assert.Contains("credential", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "v1/chat/completions", 405, "method_not_allowed")]
    [InlineData("PUT", "v1/embeddings", 405, "method_not_allowed")]
    [InlineData("POST", "v1/models", 405, "method_not_allowed")]
    [InlineData("DELETE", "v1/models/echo", 405, "method_not_allowed")]
    [InlineData("POST", "metrics", 405, "method_not_allowed")]
    [InlineData("POST", "healthz", 405, "method_not_allowed")]
    [InlineData("DELETE", "readyz", 405, "method_not_allowed")]
    [InlineData("POST", "v1/assistants", 404, "unknown_url")]
    [InlineData("GET", "v1/files/x.json", 404, "unknown_url")]
    [InlineData("GET", "nothing-here", 404, "unknown_url")]
    public async Task UnknownPathOrWrongMethod_ReturnsOpenAiError(string method, string path, int status, string code)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);

        using var response = await _gateway.Client.SendAsync(request);

        await AssertErrorAsync(response, status, null, code);
        if (status == 405) Assert.NotEmpty(response.Content.Headers.Allow);
    }

    internal static async Task<JsonElement> AssertErrorAsync(HttpResponseMessage response, int status, string? param, string? code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(text);
        var error = document.RootElement.GetProperty("error").Clone();
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.True(error.TryGetProperty("param", out var actualParam));
        Assert.True(error.TryGetProperty("code", out var actualCode));
        Assert.Equal(param, actualParam.ValueKind == JsonValueKind.Null ? null : actualParam.GetString());
        if (code is not null) Assert.Equal(code, actualCode.GetString());
        Assert.Equal(4, error.EnumerateObject().Count());
        return error;
    }
}
