using System.Buffers;
using System.Text;
using AiGateway.Caching;
using AiGateway.Protocol;

namespace AiGateway.Tests.Caching;

public sealed class CacheReplayTests
{
    private static string Replay(AiOperation operation, string json, bool includeUsage)
    {
        var output = new ArrayBufferWriter<byte>();
        CacheReplay.WriteStream(output, new CachedResponse { Operation = operation, Body = Encoding.UTF8.GetBytes(json), PromptTokens = 1, CompletionTokens = 2, StoredAtUnixSeconds = 0 }, includeUsage);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Fact]
    public void WriteStream_Completions_TextChunkFinishChunkUsageDone()
    {
        var stream = Replay(AiOperation.Completions,
            """{"id":"x","object":"text_completion","created":1,"model":"m","choices":[{"text":"one\ntwo","index":0,"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}""",
            includeUsage: true);

        Assert.Equal(
            "data: {\"id\":\"x\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":\"one\\ntwo\",\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n" +
            "data: {\"id\":\"x\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":\"\",\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}\n\n" +
            "data: {\"id\":\"x\",\"object\":\"text_completion\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\n" +
            "data: [DONE]\n\n",
            stream);
    }

    [Fact]
    public void WriteStream_ChatRefusal_IsItsOwnDelta()
    {
        var stream = Replay(AiOperation.ChatCompletions,
            """{"id":"c","object":"chat.completion","created":2,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"No."},"finish_reason":"stop"}]}""",
            includeUsage: false);

        Assert.Equal(
            "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":2,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n" +
            "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":2,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"refusal\":\"No.\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n" +
            "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":2,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n" +
            "data: [DONE]\n\n",
            stream);
    }

    [Fact]
    public void Serializer_RoundTrips()
    {
        var serializer = new CachedResponseSerializer();
        var entry = new CachedResponse { Operation = AiOperation.Embeddings, Body = "{\"data\":[]}"u8.ToArray(), PromptTokens = 7, CompletionTokens = 0, StoredAtUnixSeconds = 1_700_000_000 };
        var buffer = new ArrayBufferWriter<byte>();
        serializer.Serialize(entry, buffer);

        var copy = serializer.Deserialize(new ReadOnlySequence<byte>(buffer.WrittenMemory));

        Assert.Equal((entry.Operation, entry.PromptTokens, entry.CompletionTokens, entry.StoredAtUnixSeconds), (copy.Operation, copy.PromptTokens, copy.CompletionTokens, copy.StoredAtUnixSeconds));
        Assert.Equal(entry.Body, copy.Body);
        Assert.Throws<InvalidDataException>(() => serializer.Deserialize(new ReadOnlySequence<byte>(new byte[3])));
    }
}
