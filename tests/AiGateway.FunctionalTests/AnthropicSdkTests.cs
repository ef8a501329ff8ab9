using System.Text;
using Anthropic;
using Anthropic.Models.Messages;
using AiGateway.FunctionalTests.Infrastructure;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace AiGateway.FunctionalTests;

/// <summary>The official Anthropic .NET SDK as a client of the gateway's <c>/v1/messages</c> surface.</summary>
public sealed class AnthropicSdkTests : IAsyncLifetime
{
    private WireMockServer _anthropic = null!;
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        _anthropic = Upstreams.StartWireMock();
        _gateway = await GatewayInstance.StartAsync(TestConfig.Create(anthropicBase: _anthropic.BaseUrl() + "/v1").ToJsonString(), TestConfig.Credentials);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _anthropic.Stop();
    }

    private AnthropicClient Client(string key = GatewayInstance.Key) => new()
    {
        ApiKey = key,
        // The SDK's base URL has no /v1; it appends /v1/messages itself.
        BaseUrl = _gateway.BaseAddress.ToString().TrimEnd('/'),
        MaxRetries = 0,
    };

    [Fact]
    public async Task Create_EchoModel_AnswersInAnthropicShape()
    {
        var message = await Client().Messages.Create(new MessageCreateParams
        {
            Model = "echo",
            MaxTokens = 100,
            Messages = [new UserMessageParam("Hello, Claude SDK")],
        });

        Assert.True(message.Content[0].TryPickText(out var text));
        Assert.Equal("Hello, Claude SDK", text!.Text);
        Assert.Equal("echo", (string)message.Model);
        Assert.Equal(StopReason.EndTurn, message.StopReason!.Value());
        Assert.Equal(3, message.Usage.OutputTokens);
    }

    [Fact]
    public async Task CreateStreaming_EchoModel_StreamsTextDeltas()
    {
        var text = new StringBuilder();
        await foreach (var streamEvent in Client().Messages.CreateStreaming(new MessageCreateParams
        {
            Model = "echo",
            MaxTokens = 100,
            Messages = [new UserMessageParam("one two three")],
        }))
        {
            if (streamEvent.TryPickContentBlockDelta(out var delta) && delta!.Delta.TryPickText(out var textDelta))
            {
                text.Append(textDelta!.Text);
            }
        }

        Assert.Equal("one two three", text.ToString());
    }

    [Fact]
    public async Task Create_ClaudeModel_PassesThroughToAnthropic()
    {
        _anthropic.Given(Request.Create().WithPath("/v1/messages").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(
                """{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Hi!"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":9,"output_tokens":3}}"""));

        var message = await Client().Messages.Create(new MessageCreateParams
        {
            Model = "claude-sonnet",
            MaxTokens = 20,
            Messages = [new UserMessageParam("Hello")],
        });

        Assert.True(message.Content[0].TryPickText(out var text));
        Assert.Equal("Hi!", text!.Text);
        var received = Assert.Single(_anthropic.LogEntries).RequestMessage!;
        Assert.Equal(TestConfig.AnthropicKey, ProxyTests.Header(received, "x-api-key"));
        Assert.Contains("\"model\":\"claude-sonnet-4-5-20250929\"", received.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CountTokens_EchoModel_CountedByTheGateway()
    {
        var count = await Client().Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "echo",
            Messages = [new UserMessageParam("Hello, world")],
        });

        // 3 framing + role + "Hello, world" (3) + 3 priming, with echo's o200k encoding.
        Assert.Equal(10, count.InputTokens);
    }

    [Fact]
    public async Task Create_WrongKey_SdkSeesAnthropicAuthenticationError()
    {
        var error = await Assert.ThrowsAsync<Anthropic.Exceptions.AnthropicUnauthorizedException>(() => Client("sk-wrong").Messages.Create(new MessageCreateParams
        {
            Model = "echo",
            MaxTokens = 5,
            Messages = [new UserMessageParam("Hi")],
        }));

        Assert.Contains("Incorrect API key provided.", error.Message, StringComparison.Ordinal);
    }
}
