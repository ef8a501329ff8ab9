using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Models.Messages;
using AiGateway.FunctionalTests.Infrastructure;

namespace AiGateway.FunctionalTests;

/// <summary>
/// The prompt-token estimate behind <c>/v1/messages</c> admission (context window, token limits) counts what
/// <c>count_tokens</c> counts: top-level <c>system</c> and <c>tools</c> included.
/// </summary>
public sealed class AnthropicTokenAdmissionTests : IAsyncLifetime
{
    private const int Window = 300;

    private const string System = "You are a meticulous weather assistant. Always answer in metric units, cite the city, and keep it short.";

    private const string Tools = """
        [{"name":"get_weather","description":"Get the current weather for a city.",
          "input_schema":{"type":"object","properties":{"city":{"type":"string","description":"The city, e.g. Paris"},
          "unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city"]}}]
        """;

    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        var config = TestConfig.Create();
        config["models"]!.AsArray().Add(new JsonObject
        {
            ["name"] = "echo-small",
            ["contextWindow"] = Window,
            ["deployments"] = new JsonArray { new JsonObject { ["cluster"] = "mock", ["model"] = "echo-1" } },
        });
        _gateway = await GatewayInstance.StartAsync(config.ToJsonString(), TestConfig.Credentials);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private AnthropicClient Client() => new()
    {
        ApiKey = GatewayInstance.Key,
        BaseUrl = _gateway.BaseAddress.ToString().TrimEnd('/'),
        MaxRetries = 0,
    };

    [Fact]
    public async Task Create_SystemPrompt_AdmissionEstimateIsTheCountTokensAnswer()
    {
        var client = Client();
        var counted = await client.Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "echo-small",
            System = System,
            Messages = [new UserMessageParam("Weather in Paris?")],
        });

        var message = await client.Messages.Create(new MessageCreateParams
        {
            Model = "echo-small",
            MaxTokens = Window - counted.InputTokens,
            System = System,
            Messages = [new UserMessageParam("Weather in Paris?")],
        });
        var refused = await Assert.ThrowsAsync<Anthropic.Exceptions.AnthropicBadRequestException>(() => client.Messages.Create(new MessageCreateParams
        {
            Model = "echo-small",
            MaxTokens = Window - counted.InputTokens + 1,
            System = System,
            Messages = [new UserMessageParam("Weather in Paris?")],
        }));

        // The mock reports the gateway's own admission count as its usage.
        Assert.Equal(counted.InputTokens, message.Usage.InputTokens);
        Assert.Contains($"However, you requested {Window + 1} tokens ({counted.InputTokens} in the messages", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Messages_SystemAndTools_FillTheContextWindowExactlyAsCountTokensSays()
    {
        var promptTokens = await CountTokensAsync($$"""{"model":"echo-small","system":"{{System}}","tools":{{Tools}},"tool_choice":{"type":"tool","name":"get_weather"},"messages":[{"role":"user","content":"Weather in Paris?"}]}""");
        var withoutSystemAndTools = await CountTokensAsync("""{"model":"echo-small","messages":[{"role":"user","content":"Weather in Paris?"}]}""");
        string Body(long maxTokens) =>
            $$"""{"model":"echo-small","max_tokens":{{maxTokens}},"system":"{{System}}","tools":{{Tools}},"tool_choice":{"type":"tool","name":"get_weather"},"messages":[{"role":"user","content":"Weather in Paris?"}]}""";

        using var fits = await SendAsync("v1/messages", Body(Window - promptTokens));
        using var tooLong = await SendAsync("v1/messages", Body(Window - promptTokens + 1));

        Assert.True(promptTokens > withoutSystemAndTools + 60, $"{promptTokens} vs {withoutSystemAndTools}");
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal(
            $$$"""{"type":"error","error":{"type":"invalid_request_error","message":"This model's maximum context length is {{{Window}}} tokens. However, you requested {{{Window + 1}}} tokens ({{{promptTokens}}} in the messages, {{{Window - promptTokens + 1}}} in the completion). Please reduce the length of the messages or completion."}}""",
            await tooLong.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Messages_SystemPromptAloneOverTheWindow_Is400InAnthropicShape()
    {
        var longSystem = string.Join(' ', Enumerable.Repeat("Remember this rule.", 80));

        using var response = await SendAsync("v1/messages", $$"""{"model":"echo-small","max_tokens":1,"system":"{{longSystem}}","messages":[{"role":"user","content":"Hi"}]}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid_request_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.StartsWith($"This model's maximum context length is {Window} tokens.", error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private async Task<int> CountTokensAsync(string body)
    {
        using var response = await SendAsync("v1/messages/count_tokens", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("input_tokens").GetInt32();
    }

    /// <summary>Sends as an Anthropic SDK does: the key in <c>x-api-key</c>, plus <c>anthropic-version</c>.</summary>
    private async Task<HttpResponseMessage> SendAsync(string path, string body)
    {
        using var client = _gateway.CreateClient(null);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = ProxyTests.Json(body) };
        request.Headers.Add("x-api-key", GatewayInstance.Key);
        request.Headers.Add("anthropic-version", "2023-06-01");
        var response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }
}
