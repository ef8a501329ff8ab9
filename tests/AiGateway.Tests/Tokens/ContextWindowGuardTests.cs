using System.Text.Json;
using AiGateway.Tokens;

namespace AiGateway.Tests.Tokens;

public class ContextWindowGuardTests
{
    private static readonly ModelTokenLimits s_gpt4o = new(ContextWindow: 128_000, MaxOutputTokens: 16_384);

    [Fact]
    public void Check_PromptPlusMaxTokensOverWindow_RejectsWithOpenAiMessage()
    {
        var decision = ContextWindowGuard.Check(8000, new RequestedMaxTokens(500, "max_tokens"), new ModelTokenLimits(8192));

        Assert.False(decision.IsAllowed);
        Assert.Equal("context_length_exceeded", decision.ErrorCode);
        Assert.Equal("messages", decision.ErrorParam);
        Assert.Equal(
            "This model's maximum context length is 8192 tokens. However, you requested 8500 tokens (8000 in the messages, 500 in the completion). Please reduce the length of the messages or completion.",
            decision.ErrorMessage);
    }

    [Theory]
    [InlineData(1000, 500, 128_000, 1500)]
    [InlineData(127_000, 1000, 128_000, 128_000)]
    [InlineData(0, 16_384, 128_000, 16_384)]
    public void Check_FitsWindow_AllowsAndReservesPromptPlusMax(int prompt, int max, int window, long reserve)
    {
        var decision = ContextWindowGuard.Check(prompt, new RequestedMaxTokens(max, "max_completion_tokens"), s_gpt4o with { ContextWindow = window });

        Assert.Equal(new ContextWindowDecision(true, prompt, max, reserve), decision);
    }

    [Fact]
    public void Check_MaxTokensOverModelCap_RejectsAsInvalidValue()
    {
        var decision = ContextWindowGuard.Check(10, new RequestedMaxTokens(100_000, "max_tokens"), s_gpt4o);

        Assert.Equal(("invalid_value", "max_tokens"), (decision.ErrorCode, decision.ErrorParam));
        Assert.Equal(
            "max_tokens is too large: 100000. This model supports at most 16384 completion tokens, whereas you provided 100000.",
            decision.ErrorMessage);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Check_MaxTokensBelowOne_Rejects(long max)
    {
        var decision = ContextWindowGuard.Check(10, new RequestedMaxTokens(max, "max_tokens"), s_gpt4o);

        Assert.Equal("integer_below_min_value", decision.ErrorCode);
    }

    [Theory]
    [InlineData(1000, null, 16_384, 16_384)]
    [InlineData(1000, 4096, 16_384, 4096)]
    [InlineData(120_000, null, 16_384, 8000)]
    [InlineData(1000, null, null, 127_000)]
    [InlineData(1000, 0, null, 0)]
    public void Check_NoMaxTokens_ReservesDefaultCappedByWindow(int prompt, int? defaultMax, int? cap, int completion)
    {
        var decision = ContextWindowGuard.Check(prompt, null, new ModelTokenLimits(128_000, cap, defaultMax));

        Assert.Equal(new ContextWindowDecision(true, prompt, completion, prompt + completion), decision);
    }

    [Fact]
    public void Check_NoMaxTokensAndPromptOverWindow_Rejects()
    {
        var decision = ContextWindowGuard.Check(9000, null, new ModelTokenLimits(8191, null, 0), "input");

        Assert.Equal(("context_length_exceeded", "input"), (decision.ErrorCode, decision.ErrorParam));
        Assert.Equal(
            "This model's maximum context length is 8191 tokens. However, your input resulted in 9000 tokens. Please reduce the length of the input.",
            decision.ErrorMessage);
    }

    [Fact]
    public void Check_SeveralChoices_ReservesCompletionPerChoice()
    {
        var decision = ContextWindowGuard.Check(100, new RequestedMaxTokens(50, "max_tokens"), s_gpt4o, choices: 3);

        Assert.Equal(250, decision.ReserveTokens);
    }

    [Theory]
    [InlineData("""{"max_tokens":100}""", 100L, "max_tokens")]
    [InlineData("""{"max_completion_tokens":200,"max_tokens":100}""", 200L, "max_completion_tokens")]
    [InlineData("""{"max_tokens":null}""", null, null)]
    [InlineData("""{"max_tokens":"100"}""", null, null)]
    [InlineData("""{"max_tokens":1.5}""", null, null)]
    [InlineData("""{}""", null, null)]
    [InlineData("""[]""", null, null)]
    public void ReadRequestedMaxTokens_RequestBody_ReadsIntegerParam(string body, long? value, string? param)
    {
        using var document = JsonDocument.Parse(body);

        var requested = ContextWindowGuard.ReadRequestedMaxTokens(document.RootElement);

        Assert.Equal(value, requested?.Value);
        Assert.Equal(param, requested?.Param);
    }

    [Theory]
    [InlineData("""{"n":3}""", 3)]
    [InlineData("""{"n":0}""", 1)]
    [InlineData("""{"n":"2"}""", 1)]
    [InlineData("""{}""", 1)]
    public void ReadChoiceCount_RequestBody_DefaultsToOne(string body, int expected)
    {
        using var document = JsonDocument.Parse(body);

        Assert.Equal(expected, ContextWindowGuard.ReadChoiceCount(document.RootElement));
    }
}
