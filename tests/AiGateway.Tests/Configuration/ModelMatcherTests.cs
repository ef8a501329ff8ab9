using AiGateway.Configuration;

namespace AiGateway.Tests.Configuration;

public class ModelMatcherTests
{
    [Theory]
    [InlineData(new string[0], "anything", true)]
    [InlineData(new[] { "*" }, "anything", true)]
    [InlineData(new[] { "gpt-4o" }, "gpt-4o", true)]
    [InlineData(new[] { "gpt-4o" }, "gpt-4o-mini", false)]
    [InlineData(new[] { "gpt-4o" }, "GPT-4O", false)]
    [InlineData(new[] { "gpt-4o*" }, "gpt-4o-mini", true)]
    [InlineData(new[] { "gpt-4o*" }, "gpt-4", false)]
    [InlineData(new[] { "echo", "claude-*" }, "claude-sonnet", true)]
    public void Allows_Patterns_MatchExactlyOrByPrefix(string[] patterns, string model, bool expected) =>
        Assert.Equal(expected, new ModelMatcher(patterns).Allows(model));
}
