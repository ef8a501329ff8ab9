using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using AiGateway.FunctionalTests.Infrastructure;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using OpenAI.Models;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace AiGateway.FunctionalTests;

/// <summary>The official OpenAI .NET SDK as a real client of the gateway.</summary>
public sealed class OpenAiSdkTests : IAsyncLifetime
{
    private WireMockServer _openai = null!;
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        _openai = Upstreams.StartWireMock();
        var sse = new StringBuilder();
        foreach (var piece in new[] { "The", " answer", " is", " 42." })
        {
            sse.Append("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-upstream\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"")
               .Append(piece).Append("\"},\"finish_reason\":null}]}\n\n");
        }
        sse.Append("data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-upstream\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
        sse.Append("data: [DONE]\n\n");
        _openai.Given(Request.Create().WithPath("/v1/chat/completions").WithBody(b => b!.Contains("\"stream\":true")).UsingPost())
            .AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "text/event-stream").WithBody(sse.ToString()));
        _openai.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .AtPriority(100)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(
                """{"id":"chatcmpl-9","object":"chat.completion","created":1700000000,"model":"gpt-upstream","choices":[{"index":0,"message":{"role":"assistant","content":"Paris."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}}"""));
        _gateway = await GatewayInstance.StartAsync(TestConfig.Create(_openai.BaseUrl() + "/v1").ToJsonString(), TestConfig.Credentials);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _openai.Stop();
    }

    private OpenAIClient Client(string key = GatewayInstance.Key) => new(new ApiKeyCredential(key), new OpenAIClientOptions
    {
        Endpoint = new Uri(_gateway.BaseAddress, "v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    });

    [Fact]
    public async Task Chat_ThroughGateway_ReturnsUpstreamAnswer()
    {
        var chat = Client().GetChatClient("gpt-test");

        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Capital of France?")]);

        Assert.Equal("Paris.", completion.Content[0].Text);
        Assert.Equal(14, completion.Usage.TotalTokenCount);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        var received = Assert.Single(_openai.LogEntries).RequestMessage!;
        Assert.Contains("\"model\":\"gpt-upstream\"", received.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatStream_ThroughGateway_AssemblesDeltas()
    {
        var chat = Client().GetChatClient("gpt-test");

        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("What is the answer?")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
        }

        Assert.Equal("The answer is 42.", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
    }

    [Fact]
    public async Task MockModel_ChatAndStream_Echo()
    {
        var chat = Client().GetChatClient("echo");

        ChatCompletion completion = await chat.CompleteChatAsync([new SystemChatMessage("ignored"), new UserChatMessage("hello gateway world")]);
        var streamed = new StringBuilder();
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("streamed echo works")]))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
        }

        Assert.Equal("hello gateway world", completion.Content[0].Text);
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.Equal(3, completion.Usage.OutputTokenCount);
        Assert.Equal("streamed echo works", streamed.ToString());
    }

    [Fact]
    public async Task Embeddings_MockModel_ReturnsDeterministicUnitVectors()
    {
        var embeddings = Client().GetEmbeddingClient("echo");

        OpenAIEmbedding first = await embeddings.GenerateEmbeddingAsync("same text", new EmbeddingGenerationOptions { Dimensions = 64 });
        OpenAIEmbedding second = await embeddings.GenerateEmbeddingAsync("same text", new EmbeddingGenerationOptions { Dimensions = 64 });

        var vector = first.ToFloats().ToArray();
        Assert.Equal(64, vector.Length);
        Assert.Equal(vector, second.ToFloats().ToArray());
        Assert.InRange(Math.Sqrt(vector.Sum(v => (double)v * v)), 0.999, 1.001);
    }

    [Fact]
    public async Task Models_ListAndGet_ComeFromCatalog()
    {
        var models = Client().GetOpenAIModelClient();

        OpenAIModelCollection all = await models.GetModelsAsync();
        OpenAIModel echo = await models.GetModelAsync("echo");

        Assert.Equal(["echo", "gpt-test", "embed-test"], all.Select(m => m.Id).ToArray());
        Assert.Equal("echo", echo.Id);
    }

    [Fact]
    public async Task Models_LimitedKey_SeesOnlyAllowedModels()
    {
        OpenAIModelCollection all = await Client(GatewayInstance.LimitedKey).GetOpenAIModelClient().GetModelsAsync();

        Assert.Equal(["echo"], all.Select(m => m.Id).ToArray());
    }

    [Fact]
    public async Task Chat_BadKey_Throws401()
    {
        var chat = Client("sk-not-a-real-key").GetChatClient("gpt-test");

        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(401, error.Status);
        Assert.Empty(_openai.LogEntries);
    }

    [Fact]
    public async Task Chat_UnknownModel_Throws404()
    {
        var chat = Client().GetChatClient("no-such-model");

        var error = await Assert.ThrowsAsync<ClientResultException>(() => chat.CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(404, error.Status);
        Assert.Contains("model_not_found", error.Message, StringComparison.Ordinal);
    }
}
