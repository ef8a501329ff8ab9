using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AiGateway.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace AiGateway.FunctionalTests;

public sealed class StreamingTests
{
    private const string Chunk1 = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-upstream\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n";
    private const string Chunk2 = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-upstream\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n";
    private const string Done = "data: [DONE]\n\n";

    [Fact]
    public async Task ChatStream_UpstreamHoldsBackRest_ClientSeesFirstChunkBeforeUpstreamFinishes()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var upstreamFinished = false;
        await using var upstream = await ScriptedUpstream.StartAsync(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync(Chunk1);
            await context.Response.Body.FlushAsync();
            // The rest is only sent once the client has proven it received the first chunk.
            await release.Task.WaitAsync(TimeSpan.FromSeconds(20));
            await context.Response.WriteAsync(Chunk2);
            await context.Response.WriteAsync(Done);
            upstreamFinished = true;
        });
        await using var gateway = await StartGatewayAsync(upstream.BaseUrl);

        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = ProxyTests.Json("""{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"hi"}]}"""),
        };
        using var response = await gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync();

        var first = await ReadAtLeastAsync(stream, Chunk1.Length).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Chunk1, first);
        Assert.False(upstreamFinished);

        release.SetResult();
        var rest = await new StreamReader(stream).ReadToEndAsync();
        Assert.Equal(Chunk2 + Done, rest);
    }

    [Fact]
    public async Task ChatStream_UpstreamSendsContentLength_UsageChunkRemovedAndStreamComplete()
    {
        // Servers that buffer a stream send it with Content-Length; the usage chunk the gateway asked for is
        // removed on the way, so that length must not reach the client (Kestrel aborted the response).
        const string usage = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-upstream\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n";
        await using var upstream = await ScriptedUpstream.StartAsync(async context =>
        {
            var body = Encoding.UTF8.GetBytes(Chunk1 + Chunk2 + usage + Done);
            context.Response.ContentType = "text/event-stream";
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body);
        });
        await using var gateway = await StartGatewayAsync(upstream.BaseUrl);

        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"gpt-test","stream":true,"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Chunk1 + Chunk2 + Done, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ChatStream_ClientDisconnects_UpstreamRequestIsCancelled()
    {
        var upstreamCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await ScriptedUpstream.StartAsync(async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync(Chunk1);
            await context.Response.Body.FlushAsync();
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                upstreamCancelled.SetResult();
            }
        });
        await using var gateway = await StartGatewayAsync(upstream.BaseUrl);

        using (var client = gateway.CreateClient(GatewayInstance.Key))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
            {
                Content = ProxyTests.Json("""{"model":"gpt-test","stream":true,"messages":[]}"""),
            };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await using var stream = await response.Content.ReadAsStreamAsync();
            await ReadAtLeastAsync(stream, Chunk1.Length).WaitAsync(TimeSpan.FromSeconds(10));
        }

        await upstreamCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task MockStream_EchoesWordByWord_WithUsageAndDone()
    {
        await using var gateway = await GatewayInstance.StartAsync(TestConfig.Create().ToJsonString());

        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(
            """{"model":"echo","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"one two three"}]}"""));
        var text = await response.Content.ReadAsStringAsync();

        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e["data: ".Length..])!).ToList();
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        var content = string.Concat(chunks.Where(c => c["choices"]!.AsArray().Count > 0).Select(c => c["choices"]![0]!["delta"]!["content"]?.GetValue<string>()));
        Assert.Equal("one two three", content);
        Assert.Equal("stop", chunks[^2]["choices"]![0]!["finish_reason"]!.GetValue<string>());
        var usage = chunks[^1]["usage"]!;
        Assert.Empty(chunks[^1]["choices"]!.AsArray());
        Assert.Equal(3, usage["completion_tokens"]!.GetValue<int>());
        Assert.True(usage["prompt_tokens"]!.GetValue<int>() > 0);
    }

    private static async Task<GatewayInstance> StartGatewayAsync(string openAiBase) =>
        await GatewayInstance.StartAsync(TestConfig.Create(openAiBase).ToJsonString(), TestConfig.Credentials);

    private static async Task<string> ReadAtLeastAsync(Stream stream, int count)
    {
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer);
        return Encoding.UTF8.GetString(buffer);
    }
}
