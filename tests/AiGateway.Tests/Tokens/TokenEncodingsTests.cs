using AiGateway.Tokens;

namespace AiGateway.Tests.Tokens;

public class TokenEncodingsTests
{
    [Theory]
    [InlineData("gpt-4o", "o200k_base")]
    [InlineData("gpt-4o-mini-2024-07-18", "o200k_base")]
    [InlineData("GPT-4O", "o200k_base")]
    [InlineData("chatgpt-4o-latest", "o200k_base")]
    [InlineData("gpt-4.1-nano", "o200k_base")]
    [InlineData("gpt-4.5-preview", "o200k_base")]
    [InlineData("gpt-5", "o200k_base")]
    [InlineData("gpt-5-mini", "o200k_base")]
    [InlineData("o1-preview", "o200k_base")]
    [InlineData("o3-mini", "o200k_base")]
    [InlineData("o4-mini", "o200k_base")]
    [InlineData("gpt-oss-120b", "o200k_base")]
    [InlineData("gpt-4", "cl100k_base")]
    [InlineData("gpt-4-0613", "cl100k_base")]
    [InlineData("gpt-4-turbo", "cl100k_base")]
    [InlineData("gpt-3.5-turbo", "cl100k_base")]
    [InlineData("gpt-35-turbo", "cl100k_base")]
    [InlineData("text-embedding-3-small", "cl100k_base")]
    [InlineData("text-embedding-3-large", "cl100k_base")]
    [InlineData("text-embedding-ada-002", "cl100k_base")]
    [InlineData("claude-sonnet-4-5", "cl100k_base")]
    [InlineData("llama3.1:8b", "cl100k_base")]
    [InlineData("mistral-large-latest", "cl100k_base")]
    [InlineData("openai/gpt-4o", "o200k_base")]
    [InlineData("meta-llama/Llama-3.1-8B-Instruct", "cl100k_base")]
    [InlineData("ft:gpt-4o-mini-2024-07-18:acme::abc123", "o200k_base")]
    [InlineData("ft:gpt-3.5-turbo:acme::abc123", "cl100k_base")]
    [InlineData("some-new-model", "o200k_base")]
    [InlineData("", "o200k_base")]
    [InlineData(null, "o200k_base")]
    public void ForModel_KnownAndUnknownNames_MapsToEncoding(string? model, string expected) =>
        Assert.Equal(expected, TokenEncodings.ForModel(model));

    [Theory]
    [InlineData("o200k_base", true)]
    [InlineData("cl100k_base", true)]
    [InlineData("p50k_base", false)]
    [InlineData("O200K_BASE", false)]
    [InlineData(null, false)]
    public void IsSupported_EncodingName_ReturnsWhetherCountable(string? encoding, bool expected) =>
        Assert.Equal(expected, TokenEncodings.IsSupported(encoding));
}
