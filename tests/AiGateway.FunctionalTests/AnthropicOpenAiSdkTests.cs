using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using AiGateway.FunctionalTests.Infrastructure;
using OpenAI;
using OpenAI.Chat;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace AiGateway.FunctionalTests;

/// <summary>The official OpenAI .NET SDK against a Claude model: WireMock plays the Anthropic API.</summary>
public sealed class AnthropicOpenAiSdkTests : IAsyncLifetime
{
    private static readonly ChatTool WeatherTool = ChatTool.CreateFunctionTool(
        "get_weather", "Current weather for a city.", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));

    private WireMockServer _anthropic = null!;
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        _anthropic = Upstreams.StartWireMock();
        _gateway = await GatewayInstance.StartAsync(
            TestConfig.Create(anthropicBase: _anthropic.BaseUrl() + "/v1").ToJsonString(), GatewayInstance.FixedClock(Golden.Created), TestConfig.Credentials);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _anthropic.Stop();
    }

    private ChatClient Chat() => new OpenAIClient(new ApiKeyCredential(GatewayInstance.Key), new OpenAIClientOptions
    {
        Endpoint = new Uri(_gateway.BaseAddress, "v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    }).GetChatClient("claude-sonnet");

    [Fact]
    public async Task Chat_ClaudeModel_ReturnsTranslatedAnswer()
    {
        Respond("application/json", """{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Paris."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":14,"cache_creation_input_tokens":0,"cache_read_input_tokens":6,"output_tokens":3}}""");

        ChatCompletion completion = await Chat().CompleteChatAsync(
            [new SystemChatMessage("Answer in one word."), new UserChatMessage("Capital of France?")],
            new ChatCompletionOptions { Temperature = 0.2f, MaxOutputTokenCount = 50 });

        Assert.Equal("Paris.", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal("msg_01", completion.Id);
        Assert.Equal("claude-sonnet", completion.Model);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(Golden.Created), completion.CreatedAt);
        Assert.Equal(20, completion.Usage.InputTokenCount);
        Assert.Equal(6, completion.Usage.InputTokenDetails.CachedTokenCount);
        Assert.Equal(3, completion.Usage.OutputTokenCount);
        AnthropicProviderTests.AssertAnthropicRequest(_anthropic, "/v1/messages",
            """{"model":"claude-sonnet-4-5-20250929","max_tokens":50,"system":"Answer in one word.","messages":[{"role":"user","content":[{"type":"text","text":"Capital of France?"}]}],"temperature":0.2}""");
    }

    [Fact]
    public async Task ChatStream_ClaudeModel_AssemblesDeltasAndUsage()
    {
        var sse = new StringBuilder()
            .Append(Event("message_start", """{"type":"message_start","message":{"id":"msg_02","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":11,"output_tokens":1}}}"""))
            .Append(Event("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"""))
            .Append(Event("ping", """{"type":"ping"}"""));
        foreach (var piece in new[] { "The", " answer", " is", " 42." })
        {
            sse.Append(Event("content_block_delta", $$$"""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"{{{piece}}}"}}"""));
        }
        sse.Append(Event("content_block_stop", """{"type":"content_block_stop","index":0}"""))
            .Append(Event("message_delta", """{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":5}}"""))
            .Append(Event("message_stop", """{"type":"message_stop"}"""));
        Respond("text/event-stream", sse.ToString());

        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("What is the answer?")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal("The answer is 42.", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(11, usage.InputTokenCount);
        Assert.Equal(5, usage.OutputTokenCount);
        var received = Assert.Single(_anthropic.LogEntries).RequestMessage!;
        Assert.Equal("""{"model":"claude-sonnet-4-5-20250929","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"What is the answer?"}]}],"stream":true}""", received.Body);
    }

    [Fact]
    public async Task ToolRoundTrip_ClaudeModel_CallsToolThenAnswersWithItsResult()
    {
        _anthropic.Given(Request.Create().WithPath("/v1/messages").WithBody(b => b!.Contains("tool_result")).UsingPost())
            .AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(
                """{"id":"msg_04","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"It is 18°C and sunny in Paris."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":80,"output_tokens":12}}"""));
        _anthropic.Given(Request.Create().WithPath("/v1/messages").UsingPost())
            .AtPriority(100)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(
                """{"id":"msg_03","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_01A","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":60,"output_tokens":20}}"""));
        var chat = Chat();
        var options = new ChatCompletionOptions { Tools = { WeatherTool } };
        List<ChatMessage> messages = [new UserChatMessage("Weather in Paris?")];

        ChatCompletion call = await chat.CompleteChatAsync(messages, options);

        Assert.Equal(ChatFinishReason.ToolCalls, call.FinishReason);
        var toolCall = Assert.Single(call.ToolCalls);
        Assert.Equal("toolu_01A", toolCall.Id);
        Assert.Equal("get_weather", toolCall.FunctionName);
        Assert.Equal("""{"city":"Paris"}""", toolCall.FunctionArguments.ToString());

        messages.Add(new AssistantChatMessage(call));
        messages.Add(new ToolChatMessage(toolCall.Id, "18°C, sunny"));
        ChatCompletion answer = await chat.CompleteChatAsync(messages, options);

        Assert.Equal("It is 18°C and sunny in Paris.", answer.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, answer.FinishReason);
        var bodies = _anthropic.LogEntries.Select(e => e.RequestMessage!.Body).ToList();
        const string tools = "\"tools\":" + """[{"name":"get_weather","description":"Current weather for a city.","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]""";
        Assert.Equal(
            [
                $$$"""{"model":"claude-sonnet-4-5-20250929","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Weather in Paris?"}]}],{{{tools}}}}""",
                $$$"""{"model":"claude-sonnet-4-5-20250929","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Weather in Paris?"}]},{"role":"assistant","content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_01A","name":"get_weather","input":{"city":"Paris"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01A","content":"18°C, sunny"}]}],{{{tools}}}}""",
            ],
            bodies);
    }

    [Fact]
    public async Task Chat_AnthropicOverloaded_SdkSees503()
    {
        _anthropic.Given(Request.Create().WithPath("/v1/messages").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(529).WithHeader("Content-Type", "application/json").WithBody(
                """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"""));

        var error = await Assert.ThrowsAsync<ClientResultException>(() => Chat().CompleteChatAsync([new UserChatMessage("Hi")]));

        Assert.Equal(503, error.Status);
        Assert.Contains("Overloaded", error.Message, StringComparison.Ordinal);
    }

    private void Respond(string contentType, string body) =>
        _anthropic.Given(Request.Create().WithPath("/v1/messages").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", contentType).WithBody(body));

    private static string Event(string name, string data) => $"event: {name}\ndata: {data}\n\n";
}
