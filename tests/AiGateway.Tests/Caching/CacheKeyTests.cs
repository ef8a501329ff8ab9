using System.Text;
using AiGateway.Caching;
using AiGateway.Protocol;

namespace AiGateway.Tests.Caching;

public sealed class CacheKeyTests
{
    private static CacheableRequest Read(string body, string partition = "team:a", string model = "gpt", AiOperation operation = AiOperation.ChatCompletions)
    {
        Assert.True(CacheKey.TryRead(Encoding.UTF8.GetBytes(body), operation, partition, model, out var request));
        return request;
    }

    private const string Base = """{"model":"gpt","temperature":0,"messages":[{"role":"user","content":"hi"}]}""";

    [Theory]
    [InlineData("""{ "messages" : [ { "content" : "hi", "role" : "user" } ], "temperature" : 0, "model" : "gpt" }""")]
    [InlineData("""{"model":"gpt","temperature":0.0,"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("""{"model":"gpt","temperature":0e0,"messages":[{"role":"user","content":"h\u0069"}]}""")]
    [InlineData("""{"model":"other-spelling","stream":true,"stream_options":{"include_usage":true},"user":"u-1","temperature":0,"messages":[{"role":"user","content":"hi"}]}""")]
    public void TryRead_SameRequestSpelledDifferently_SameKey(string body) =>
        Assert.Equal(Read(Base).Key, Read(body).Key);

    [Theory]
    [InlineData("""{"model":"gpt","temperature":0,"messages":[{"role":"user","content":"hi!"}]}""")]
    [InlineData("""{"model":"gpt","temperature":0,"messages":[{"role":"system","content":"hi"}]}""")]
    [InlineData("""{"model":"gpt","temperature":0,"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("""{"model":"gpt","temperature":0,"tools":[],"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("""{"model":"gpt","temperature":0,"messages":[{"content":"hi","role":"user","name":"x"}]}""")]
    [InlineData("""{"model":"gpt","temperature":0,"seed":9007199254740993,"messages":[{"role":"user","content":"hi"}]}""")]
    public void TryRead_DifferentRequest_DifferentKey(string body) =>
        Assert.NotEqual(Read(Base).Key, Read(body).Key);

    [Fact]
    public void TryRead_LargeSeeds_KeepEveryDigit() =>
        Assert.NotEqual(
            Read("""{"seed":9007199254740993,"messages":[]}""").Key,
            Read("""{"seed":9007199254740992,"messages":[]}""").Key);

    [Fact]
    public void TryRead_PartitionModelAndOperation_AreInTheKey()
    {
        var key = Read(Base).Key;
        Assert.NotEqual(key, Read(Base, partition: "team:b").Key);
        Assert.NotEqual(key, Read(Base, model: "gpt-2").Key);
        Assert.NotEqual(key, Read(Base, operation: AiOperation.Completions).Key);
        Assert.Matches("^[0-9a-f]{64}$", key);
    }

    [Theory]
    [InlineData("""{"temperature":0}""", true)]
    [InlineData("""{"temperature":0.0}""", true)]
    [InlineData("""{"seed":1}""", true)]
    [InlineData("""{"temperature":0.7,"seed":3}""", true)]
    [InlineData("""{"temperature":0.7}""", false)]
    [InlineData("""{}""", false)]
    [InlineData("""{"seed":null}""", false)]
    public void TryRead_Determinism(string body, bool deterministic) =>
        Assert.Equal(deterministic, Read(body).Deterministic);

    [Fact]
    public void TryRead_Embeddings_AlwaysDeterministic() =>
        Assert.True(Read("""{"input":"x"}""", operation: AiOperation.Embeddings).Deterministic);

    [Theory]
    [InlineData("""{"logprobs":true}""", true)]
    [InlineData("""{"logprobs":3}""", true)]
    [InlineData("""{"top_logprobs":2}""", true)]
    [InlineData("""{"logprobs":false}""", false)]
    public void TryRead_Logprobs(string body, bool wants) =>
        Assert.Equal(wants, Read(body).WantsLogprobs);

    [Theory]
    [InlineData("[1]")]
    [InlineData("not json")]
    public void TryRead_NotAnObject_False(string body) =>
        Assert.False(CacheKey.TryRead(Encoding.UTF8.GetBytes(body), AiOperation.ChatCompletions, "p", "m", out _));

    [Theory]
    [InlineData("Team", "k", "red", "team:red")]
    [InlineData("Team", "k", null, "key:k")]
    [InlineData("Key", "k", "red", "key:k")]
    [InlineData("Shared", "k", "red", "shared")]
    public void Partition_FollowsScope(string scope, string key, string? team, string expected) =>
        Assert.Equal(expected, CacheKey.Partition(Enum.Parse<CacheScope>(scope), key, team));
}
