using System.Net;
using System.Net.Http.Headers;
using Anthropic;
using Anthropic.Models.Models;
using AiGateway.FunctionalTests.Infrastructure;
using WireMock.Server;

namespace AiGateway.FunctionalTests;

/// <summary>
/// <c>GET /v1/models</c> and <c>/v1/models/{id}</c> as Anthropic SDKs call them (<c>x-api-key</c>,
/// <c>anthropic-version</c>): Anthropic's shapes, pagination and errors, from the same catalog as the OpenAI shape.
/// </summary>
public sealed class AnthropicModelsTests : IAsyncLifetime
{
    // Golden.Created, as Anthropic writes instants.
    private const string CreatedAt = "2026-01-01T00:00:00Z";

    private WireMockServer _upstream = null!;
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = Upstreams.StartWireMock();
        // Catalog order: echo, gpt-test (contextWindow 8192), embed-test, claude-sonnet (maxOutputTokens 4000).
        var config = TestConfig.Create(openAiBase: _upstream.BaseUrl() + "/v1", anthropicBase: _upstream.BaseUrl() + "/v1", claudeMaxOutputTokens: 4000);
        _gateway = await GatewayInstance.StartAsync(config.ToJsonString(), GatewayInstance.FixedClock(Golden.Created), TestConfig.Credentials);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _upstream.Stop();
    }

    private AnthropicClient Client(string key = GatewayInstance.Key) => new()
    {
        ApiKey = key,
        BaseUrl = _gateway.BaseAddress.ToString().TrimEnd('/'),
        MaxRetries = 0,
    };

    [Fact]
    public async Task List_AnthropicSdk_ListsTheCatalogInAnthropicShape()
    {
        var page = await Client().Models.List();

        Assert.Equal(["echo", "gpt-test", "embed-test", "claude-sonnet"], page.Items.Select(m => m.ID).ToArray());
        Assert.False(page.HasNext());
        var echo = page.Items[0];
        Assert.Equal("echo", echo.DisplayName);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(Golden.Created), echo.CreatedAt);
        Assert.Empty(_upstream.LogEntries);
    }

    [Fact]
    public async Task List_AnthropicVersion_ExactAnthropicBody()
    {
        using var response = await SendAsync("v1/models");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(
            "{\"data\":["
            + $$"""{"type":"model","id":"echo","display_name":"echo","created_at":"{{CreatedAt}}"},"""
            + $$"""{"type":"model","id":"gpt-test","display_name":"gpt-test","created_at":"{{CreatedAt}}","max_input_tokens":8192},"""
            + $$"""{"type":"model","id":"embed-test","display_name":"embed-test","created_at":"{{CreatedAt}}"},"""
            + $$"""{"type":"model","id":"claude-sonnet","display_name":"claude-sonnet","created_at":"{{CreatedAt}}","max_tokens":4000}"""
            + """],"has_more":false,"first_id":"echo","last_id":"claude-sonnet"}""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task List_AnthropicSdkPageOfOne_PaginatesThroughEveryModel()
    {
        var first = await Client().Models.List(new ModelListParams { Limit = 1 });
        var ids = new List<string>();
        await foreach (var model in first.Paginate())
        {
            ids.Add(model.ID);
        }

        Assert.Equal(["echo"], first.Items.Select(m => m.ID).ToArray());
        Assert.True(first.HasNext());
        Assert.Equal(["echo", "gpt-test", "embed-test", "claude-sonnet"], ids);
    }

    [Theory]
    [InlineData("limit=2", "echo,gpt-test", true)]
    [InlineData("limit=1000", "echo,gpt-test,embed-test,claude-sonnet", false)]
    [InlineData("after_id=echo&limit=2", "gpt-test,embed-test", true)]
    [InlineData("after_id=embed-test&limit=2", "claude-sonnet", false)]
    [InlineData("after_id=claude-sonnet", "", false)]
    [InlineData("before_id=claude-sonnet&limit=2", "gpt-test,embed-test", true)]
    [InlineData("before_id=gpt-test&limit=5", "echo", false)]
    [InlineData("before_id=echo", "", false)]
    public async Task List_Cursors_ReturnThePageInThatDirection(string query, string expectedIds, bool hasMore)
    {
        using var response = await SendAsync("v1/models?" + query);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = document.RootElement;
        var ids = root.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToArray();
        Assert.Equal(expectedIds, string.Join(',', ids));
        Assert.Equal(hasMore, root.GetProperty("has_more").GetBoolean());
        Assert.Equal(ids.FirstOrDefault(), root.GetProperty("first_id").GetString());
        Assert.Equal(ids.LastOrDefault(), root.GetProperty("last_id").GetString());
    }

    [Theory]
    [InlineData("limit=0", "limit: must be one integer from 1 to 1000, got '0'.")]
    [InlineData("limit=1001", "limit: must be one integer from 1 to 1000, got '1001'.")]
    [InlineData("limit=ten", "limit: must be one integer from 1 to 1000, got 'ten'.")]
    [InlineData("limit=-1", "limit: must be one integer from 1 to 1000, got '-1'.")]
    [InlineData("limit=", "limit: must be one integer from 1 to 1000, got ''.")]
    [InlineData("limit=1&limit=2", "limit: must be one integer from 1 to 1000, got '1,2'.")]
    [InlineData("after_id=", "after_id: must be one model id.")]
    [InlineData("before_id=a&before_id=b", "before_id: must be one model id.")]
    [InlineData("after_id=no-such-model", "after_id: 'no-such-model' is not the id of a model you can list.")]
    [InlineData("before_id=no-such-model", "before_id: 'no-such-model' is not the id of a model you can list.")]
    [InlineData("after_id=echo&before_id=claude-sonnet", "after_id and before_id cannot be used together.")]
    public async Task List_BadQuery_Is400InAnthropicShape(string query, string message)
    {
        using var response = await SendAsync("v1/models?" + query);

        await AssertAnthropicErrorAsync(response, 400, "invalid_request_error", message);
    }

    [Fact]
    public async Task List_LimitedKey_SeesOnlyAllowedModelsAndCannotPageFromOthers()
    {
        var page = await Client(GatewayInstance.LimitedKey).Models.List();
        using var hidden = await SendAsync("v1/models?after_id=gpt-test", GatewayInstance.LimitedKey);

        Assert.Equal(["echo"], page.Items.Select(m => m.ID).ToArray());
        await AssertAnthropicErrorAsync(hidden, 400, "invalid_request_error", "after_id: 'gpt-test' is not the id of a model you can list.");
    }

    [Fact]
    public async Task Retrieve_AnthropicSdk_ReturnsTheModel()
    {
        var model = await Client().Models.Retrieve("gpt-test");
        using var response = await SendAsync("v1/models/gpt-test");

        Assert.Equal("gpt-test", model.ID);
        Assert.Equal("gpt-test", model.DisplayName);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(Golden.Created), model.CreatedAt);
        Assert.Equal(
            $$"""{"type":"model","id":"gpt-test","display_name":"gpt-test","created_at":"{{CreatedAt}}","max_input_tokens":8192}""",
            await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData(GatewayInstance.Key, "no-such-model")]
    [InlineData(GatewayInstance.LimitedKey, "gpt-test")]
    public async Task Retrieve_UnknownOrForbiddenModel_Is404InAnthropicShape(string key, string id)
    {
        await Assert.ThrowsAsync<Anthropic.Exceptions.AnthropicNotFoundException>(() => Client(key).Models.Retrieve(id));
        using var response = await SendAsync($"v1/models/{id}", key);

        await AssertAnthropicErrorAsync(response, 404, "not_found_error", $"The model '{id}' does not exist or you do not have access to it.");
    }

    [Fact]
    public async Task List_AnthropicSdkWrongKey_SeesAnthropicAuthenticationError()
    {
        var error = await Assert.ThrowsAsync<Anthropic.Exceptions.AnthropicUnauthorizedException>(() => Client("sk-wrong").Models.List());

        Assert.Contains("Incorrect API key provided.", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("v1/models", null, "You didn't provide an API key. Send it as 'x-api-key: YOUR_KEY' or 'Authorization: Bearer YOUR_KEY'.")]
    [InlineData("v1/models/echo", null, "You didn't provide an API key. Send it as 'x-api-key: YOUR_KEY' or 'Authorization: Bearer YOUR_KEY'.")]
    [InlineData("v1/models", "sk-wrong", "Incorrect API key provided.")]
    public async Task Models_AnthropicVersionWithoutValidKey_Is401InAnthropicShape(string path, string? key, string message)
    {
        using var response = await SendAsync(path, key);

        await AssertAnthropicErrorAsync(response, 401, "authentication_error", message);
    }

    [Fact]
    public async Task Models_AnthropicVersionWithBearer_AnswersInAnthropicShape()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/models?limit=1");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", GatewayInstance.Key);
        request.Headers.Add("anthropic-version", "2023-06-01");

        using var client = _gateway.CreateClient(null);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("""{"data":[{"type":"model","id":"echo",""", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Models_XApiKeyWithoutAnthropicVersion_IsNotAGatewayCredential()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/models");
        request.Headers.Add("x-api-key", GatewayInstance.Key);

        using var client = _gateway.CreateClient(null);
        using var response = await client.SendAsync(request);

        var error = await ErrorTests.AssertErrorAsync(response, 401, null, "invalid_api_key");
        Assert.Equal("You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY' or 'api-key: YOUR_KEY'.", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Models_WithoutAnthropicVersion_KeepOpenAiShapeAndIgnorePagination()
    {
        using var list = await _gateway.Client.GetAsync("v1/models?limit=0&after_id=nope");
        using var missing = await _gateway.Client.GetAsync("v1/models/no-such-model");

        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.StartsWith("""{"object":"list","data":[{"id":"echo","object":"model","created":1767225600,""", await list.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await ErrorTests.AssertErrorAsync(missing, 404, "model", "model_not_found");
    }

    [Fact]
    public async Task Models_WrongMethodWithAnthropicVersion_Is405InAnthropicShape()
    {
        using var response = await SendAsync("v1/models", method: HttpMethod.Post);

        await AssertAnthropicErrorAsync(response, 405, "invalid_request_error", "Method POST is not allowed on /v1/models; use GET.");
        Assert.Equal(["GET"], response.Content.Headers.Allow);
    }

    /// <summary>Sends as an Anthropic SDK does: the key in <c>x-api-key</c>, plus <c>anthropic-version</c>.</summary>
    private async Task<HttpResponseMessage> SendAsync(string path, string? key = GatewayInstance.Key, HttpMethod? method = null)
    {
        using var client = _gateway.CreateClient(null);
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        if (key is not null) request.Headers.Add("x-api-key", key);
        request.Headers.Add("anthropic-version", "2023-06-01");
        var response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static async Task AssertAnthropicErrorAsync(HttpResponseMessage response, int status, string type, string message)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(
            new System.Text.Json.Nodes.JsonObject { ["type"] = "error", ["error"] = new System.Text.Json.Nodes.JsonObject { ["type"] = type, ["message"] = message } }
                .ToJsonString(new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }),
            text);
    }
}
