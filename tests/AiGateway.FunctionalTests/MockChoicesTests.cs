using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiGateway.FunctionalTests.Infrastructure;
using Microsoft.ML.Tokenizers;
using OpenAI;
using OpenAI.Chat;

namespace AiGateway.FunctionalTests;

/// <summary>
/// The built-in mock answers <c>n</c> and every completions prompt shape as OpenAI does, through the whole
/// gateway (admission, relay, cache), to raw HTTP and to the official SDK.
/// </summary>
public sealed class MockChoicesTests : IAsyncLifetime
{
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        var config = TestConfig.Create();
        config["models"]!.AsArray().Add(new JsonObject
        {
            ["name"] = "echo-cached",
            ["cache"] = new JsonObject { ["enabled"] = true },
            ["deployments"] = new JsonArray { new JsonObject { ["cluster"] = "mock", ["model"] = "echo-1" } },
        });
        _gateway = await GatewayInstance.StartAsync(config.ToJsonString(), TestConfig.Credentials);
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    private ChatClient Chat(string model = "echo") => new OpenAIClient(new ApiKeyCredential(GatewayInstance.Key), new OpenAIClientOptions
    {
        Endpoint = new Uri(_gateway.BaseAddress, "v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    }).GetChatClient(model);

    private async Task<JsonElement> PostAsync(string path, string body, int status = 200)
    {
        using var response = await _gateway.Client.PostAsync(path, ProxyTests.Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task Chat_N3_ThreeChoicesInOrder_UsageCountsEveryChoice()
    {
        var root = await PostAsync("v1/chat/completions", """{"model":"echo","n":3,"messages":[{"role":"user","content":"red green blue"}]}""");

        var choices = root.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal([0, 1, 2], choices.Select(c => c.GetProperty("index").GetInt32()));
        Assert.All(choices, c => Assert.Equal("red green blue", c.GetProperty("message").GetProperty("content").GetString()));
        Assert.Equal(9, root.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Chat_N2_Streamed_ThroughSdk_UsageCountsBothChoices()
    {
        // The SDK has no typed 'n'; an unknown property read into the options is sent along, as users do it.
        var options = ModelReaderWriter.Read<ChatCompletionOptions>(BinaryData.FromString("""{"n":2}"""))!;

        var text = "";
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("one two three")], options))
        {
            text += string.Concat(update.ContentUpdate.Select(part => part.Text));
            usage ??= update.Usage;
        }

        Assert.Equal("oneone two two three three", text); // the choices' chunks interleave, word by word

        Assert.Equal(6, usage!.OutputTokenCount);
    }

    [Fact]
    public async Task Chat_N2_Streamed_RawSse_InterleavedByIndex_WithFinishPerChoice()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = ProxyTests.Json("""{"model":"echo","n":2,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"a b"}]}"""),
        };
        using var response = await _gateway.Client.SendAsync(request);
        var events = (await response.Content.ReadAsStringAsync())
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e["data: ".Length..])
            .ToList();

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        var text = new string[] { "", "" };
        var finishes = new string[] { "", "" };
        foreach (var choice in chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray()))
        {
            var index = choice.GetProperty("index").GetInt32();
            if (choice.GetProperty("delta").TryGetProperty("content", out var content)) text[index] += content.GetString();
            if (choice.GetProperty("finish_reason").ValueKind == JsonValueKind.String) finishes[index] = choice.GetProperty("finish_reason").GetString()!;
        }
        Assert.Equal(["a b", "a b"], text);
        Assert.Equal(["stop", "stop"], finishes);
        Assert.Equal(4, chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Completions_PromptArray_EveryPromptGetsNChoices_InOpenAisOrder()
    {
        var root = await PostAsync("v1/completions", """{"model":"echo","prompt":["a b","c"],"n":2,"max_tokens":1}""");

        var choices = root.GetProperty("choices").EnumerateArray()
            .Select(c => (c.GetProperty("index").GetInt32(), c.GetProperty("text").GetString(), c.GetProperty("finish_reason").GetString()));
        Assert.Equal([(0, "a", "length"), (1, "a", "length"), (2, "c", "length"), (3, "c", "length")], choices);
        Assert.Equal(4, root.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Completions_TokenIdPrompts_AreDecoded_AndCountedAsTheirIds()
    {
        var ids = TiktokenTokenizer.CreateForEncoding("o200k_base").EncodeToIds("Hello big world");
        var body = $$"""{"model":"echo","prompt":[{{string.Join(',', ids)}}]}""";

        var single = await PostAsync("v1/completions", body);
        var nested = await PostAsync("v1/completions", $$"""{"model":"echo","prompt":[[{{string.Join(',', ids)}}],[{{ids[0]}}]]}""");

        Assert.Equal("Hello big world", single.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(ids.Count, single.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(["Hello big world", "Hello"], nested.GetProperty("choices").EnumerateArray().Select(c => c.GetProperty("text").GetString()));
    }

    [Theory]
    [InlineData("""[200000]""", "prompt")]
    [InlineData("""[["x"]]""", "prompt[0][0]")]
    [InlineData("""[1,-1]""", "prompt[1]")]
    public async Task Completions_BadTokenIds_Are400NamingTheParameter(string prompt, string param)
    {
        using var response = await _gateway.Client.PostAsync("v1/completions", ProxyTests.Json($$"""{"model":"echo","prompt":{{prompt}}}"""));

        var error = await ErrorTests.AssertErrorAsync(response, 400, param, null);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Completions_TooManyChoices_Is400()
    {
        var prompts = string.Join(',', Enumerable.Repeat("\"p\"", 100));

        using var tooMany = await _gateway.Client.PostAsync("v1/completions", ProxyTests.Json($$"""{"model":"echo","prompt":[{{prompts}}],"n":21}"""));
        using var tooLong = await _gateway.Client.PostAsync("v1/completions", ProxyTests.Json($$"""{"model":"echo","prompt":[{{string.Join(',', Enumerable.Repeat("\"p\"", 2049))}}]}"""));

        await ErrorTests.AssertErrorAsync(tooMany, 400, "n", "invalid_value");
        await ErrorTests.AssertErrorAsync(tooLong, 400, "prompt", "array_above_max_length");
    }

    [Fact]
    public async Task Cache_N2_StoredAndServedWithBothChoices_AsJsonAndAsStream()
    {
        const string body = """{"model":"echo-cached","n":2,"temperature":0,"messages":[{"role":"user","content":"cache me twice"}]}""";

        using var miss = await _gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(body));
        await ResponseCacheTests.StoredAsync(_gateway);
        using var hit = await _gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(body));
        using var streamHit = await _gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(body.Replace("\"n\":2", "\"n\":2,\"stream\":true")));

        Assert.Equal("MISS", miss.Headers.GetValues("x-gateway-cache").Single());
        Assert.Equal("HIT", hit.Headers.GetValues("x-gateway-cache").Single());
        var choices = JsonDocument.Parse(await hit.Content.ReadAsStringAsync()).RootElement.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal(2, choices.Count);
        Assert.All(choices, c => Assert.Equal("cache me twice", c.GetProperty("message").GetProperty("content").GetString()));
        Assert.Equal("HIT", streamHit.Headers.GetValues("x-gateway-cache").Single());
        var sse = await streamHit.Content.ReadAsStringAsync();
        Assert.Contains("\"index\":1", sse);
    }
}
