using System.Net;
using AiGateway.FunctionalTests.Infrastructure;

namespace AiGateway.FunctionalTests;

public sealed class AdminTests
{
    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData(GatewayInstance.Key, HttpStatusCode.Unauthorized)]
    [InlineData("wrong-admin-key", HttpStatusCode.Unauthorized)]
    [InlineData(GatewayInstance.AdminKey, HttpStatusCode.OK)]
    public async Task AdminConfig_OnlyAdminKeyOpensIt(string? key, HttpStatusCode expected)
    {
        await using var gateway = await GatewayInstance.StartAsync(TestConfig.Create().ToJsonString());
        using var client = gateway.CreateClient(key);

        using var response = await client.GetAsync("admin/v1/config");

        Assert.Equal(expected, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(GatewayInstance.Sha256(GatewayInstance.Key), body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "admin/v1/nothing", 404, null, "unknown_url")]
    [InlineData("GET", "admin", 404, null, "unknown_url")]
    [InlineData("POST", "admin/v1/config", 405, null, "method_not_allowed")]
    [InlineData("GET", "admin/v1/cache", 405, null, "method_not_allowed")]
    [InlineData("DELETE", "admin/v1/cache/entries/not-a-key", 400, "key", "invalid_value")]
    [InlineData("DELETE", "admin/v1/cache/models/no-such-model", 404, "model", "model_not_found")]
    public async Task Admin_BadRequest_ReturnsOpenAiError(string method, string path, int status, string? param, string code)
    {
        await using var gateway = await GatewayInstance.StartAsync(TestConfig.Create().ToJsonString());
        using var client = gateway.CreateClient(GatewayInstance.AdminKey);

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        await ErrorTests.AssertErrorAsync(response, status, param, code);
        if (status == 405) Assert.NotEmpty(response.Content.Headers.Allow);
    }

    [Fact]
    public async Task AdminKey_DoesNotOpenTheApi()
    {
        await using var gateway = await GatewayInstance.StartAsync(TestConfig.Create().ToJsonString());
        using var client = gateway.CreateClient(GatewayInstance.AdminKey);

        using var response = await client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"echo","messages":[]}"""));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Health_LivenessAndReadiness_NeedNoKey()
    {
        await using var gateway = await GatewayInstance.StartAsync(TestConfig.Create().ToJsonString());
        using var client = gateway.CreateClient(null);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("healthz")).StatusCode);
        var ready = await client.GetAsync("readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"status\":\"ready\"", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AllowAnonymous_WhenConfigured_ServesWithoutKey()
    {
        var config = TestConfig.Create();
        config["auth"]!["allowAnonymous"] = true;
        await using var gateway = await GatewayInstance.StartAsync(config.ToJsonString());
        using var client = gateway.CreateClient(null);

        using var response = await client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"echo","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
