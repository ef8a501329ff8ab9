using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Text.Json;
using AiGateway.FunctionalTests.Infrastructure;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace AiGateway.FunctionalTests;

/// <summary>The mock answers bad parameters with the 400s OpenAI's API gives, to raw HTTP and to the official SDK.</summary>
public sealed class MockValidationTests : IAsyncLifetime
{
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync() =>
        _gateway = await GatewayInstance.StartAsync(TestConfig.Create().ToJsonString(), TestConfig.Credentials);

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private OpenAIClient Client() => new(new ApiKeyCredential(GatewayInstance.Key), new OpenAIClientOptions
    {
        Endpoint = new Uri(_gateway.BaseAddress, "v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    });

    public static TheoryData<string, string, string, string> BadParameters => new()
    {
        { "v1/chat/completions", """{"model":"echo","messages":[{"role":"user","content":"hi"}],"temperature":3}""", "temperature", "decimal_above_max_value" },
        { "v1/chat/completions", """{"model":"echo","messages":[{"role":"user","content":"hi"}],"n":0}""", "n", "integer_below_min_value" },
        { "v1/chat/completions", """{"model":"echo","messages":[{"role":"user","content":"hi"}],"top_logprobs":5}""", "top_logprobs", "invalid_value" },
        { "v1/chat/completions", """{"model":"echo","messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}""", "stream_options", "invalid_value" },
        { "v1/chat/completions", """{"model":"echo","messages":[{"role":"user","content":"hi"}],"stop":["1","2","3","4","5"],"stream":true}""", "stop", "array_above_max_length" },
        { "v1/chat/completions", """{"model":"echo","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"bad name!"}}]}""", "tools[0].function.name", "invalid_value" },
        { "v1/chat/completions", """{"model":"echo","messages":[{"role":"wizard","content":"hi"}]}""", "messages[0].role", "invalid_value" },
        { "v1/chat/completions", """{"model":"echo","messages":[]}""", "messages", "empty_array" },
        { "v1/chat/completions", """{"model":"echo","messages":[{"role":"tool","content":"42"}]}""", "messages[0].tool_call_id", "missing_required_parameter" },
        { "v1/completions", """{"model":"echo","prompt":"hi","best_of":1,"n":2}""", "best_of", "invalid_value" },
        { "v1/embeddings", """{"model":"echo","input":["a",""]}""", "input[1]", "empty_string" },
        { "v1/embeddings", """{"model":"echo","input":"a","encoding_format":"hex"}""", "encoding_format", "invalid_value" },
        { "v1/embeddings", """{"model":"echo","input":"a","dimensions":0}""", "dimensions", "integer_below_min_value" },
    };

    [Theory]
    [MemberData(nameof(BadParameters))]
    public async Task Mock_BadParameter_Returns400LikeOpenAi(string path, string body, string param, string code)
    {
        using var response = await _gateway.Client.PostAsync(path, ProxyTests.Json(body));

        var error = await ErrorTests.AssertErrorAsync(response, 400, param, code);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Mock_TemperatureAboveTwo_ReturnsOpenAisExactError()
    {
        using var response = await _gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(
            """{"model":"echo","messages":[{"role":"user","content":"hi"}],"temperature":2.5}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(
            """{"error":{"message":"Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.","type":"invalid_request_error","param":"temperature","code":"decimal_above_max_value"}}""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Mock_UnknownFieldsAndEdgeValues_AreAccepted()
    {
        using var response = await _gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(
            """{"model":"echo","messages":[{"role":"user","content":"hi"}],"temperature":2,"top_p":0,"n":1,"stop":["a","b","c","d"],"logprobs":true,"top_logprobs":20,"future_parameter":{"x":1}}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Sdk_TemperatureOutOfRange_ThrowsWith400()
    {
        var chat = Client().GetChatClient("echo");

        var e = await Assert.ThrowsAsync<ClientResultException>(() =>
            chat.CompleteChatAsync([new UserChatMessage("hi")], new ChatCompletionOptions { Temperature = 3f }));

        Assert.Equal(400, e.Status);
        using var error = JsonDocument.Parse(e.GetRawResponse()!.Content);
        Assert.Equal("temperature", error.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task Sdk_ToolChoiceNamingUndeclaredTool_ThrowsWith400()
    {
        var chat = Client().GetChatClient("echo");
        var options = new ChatCompletionOptions
        {
            Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather", BinaryData.FromString("""{"type":"object","properties":{}}""")) },
            ToolChoice = ChatToolChoice.CreateFunctionChoice("get_time"),
        };

        var e = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")], options));

        Assert.Equal(400, e.Status);
        using var error = JsonDocument.Parse(e.GetRawResponse()!.Content);
        Assert.Equal("tool_choice.function.name", error.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task Sdk_FullToolConversation_IsAccepted()
    {
        var chat = Client().GetChatClient("echo");
        var options = new ChatCompletionOptions
        {
            Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}""")) },
            ToolChoice = ChatToolChoice.CreateAutoChoice(),
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("weather", BinaryData.FromString("""{"type":"object"}""")),
            Temperature = 0f,
            TopP = 1f,
            MaxOutputTokenCount = 16,
            IncludeLogProbabilities = true,
            TopLogProbabilityCount = 2,
            StopSequences = { "END" },
        };
        ChatMessage[] messages =
        [
            new SystemChatMessage("Be brief."),
            new UserChatMessage("Weather in Paris?"),
            new AssistantChatMessage([ChatToolCall.CreateFunctionToolCall("call_1", "get_weather", BinaryData.FromString("""{"city":"Paris"}"""))]),
            new ToolChatMessage("call_1", "sunny"),
            new UserChatMessage("thanks"),
        ];

        ChatCompletion completion = await chat.CompleteChatAsync(messages, options);

        Assert.Equal("thanks", completion.Content[0].Text);
    }

    [Fact]
    public async Task Sdk_EmbeddingsDefaultBase64_AreAccepted()
    {
        // The SDK asks for base64 unless told otherwise.
        var embeddings = Client().GetEmbeddingClient("echo");

        OpenAIEmbeddingCollection result = await embeddings.GenerateEmbeddingsAsync(["one", "two"], new EmbeddingGenerationOptions { Dimensions = 8 });

        Assert.Equal([8, 8], result.Select(e => e.ToFloats().Length).ToArray());
    }
}
