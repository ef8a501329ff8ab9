using System.Text;
using System.Text.Json;
using AiGateway.Tokens;

namespace AiGateway.Tests.Tokens;

public class CompletionTokenAccumulatorTests
{
    [Theory]
    [InlineData("o200k_base", 1)]
    [InlineData("o200k_base", 7)]
    [InlineData("cl100k_base", 3)]
    [InlineData("cl100k_base", 50)]
    public void CountTokens_LongStreamInSmallDeltas_EqualsWholeTextCount(string encoding, int deltaLength)
    {
        string text = LongAnswer();
        var counter = SharedTokenizers.Get(encoding);
        using var accumulator = new CompletionTokenAccumulator(counter);

        for (int i = 0; i < text.Length; i += deltaLength)
        {
            accumulator.Append(text.AsSpan(i, Math.Min(deltaLength, text.Length - i)));
        }

        Assert.Equal(counter.CountTokens(text), accumulator.CountTokens());
    }

    [Fact]
    public void Append_JsonStringDeltas_CountsUnescapedText()
    {
        using var accumulator = new CompletionTokenAccumulator(SharedTokenizers.O200k);
        foreach (string chunk in new[] { "{\"content\":\"Hello\"}", "{\"content\":\",\\n wor\"}", "{\"content\":\"ld 👋\"}", "{\"content\":null}" })
        {
            using var document = JsonDocument.Parse(chunk);
            accumulator.Append(document.RootElement.GetProperty("content"));
        }

        Assert.Equal(SharedTokenizers.O200k.CountTokens("Hello,\n world 👋"), accumulator.CountTokens());
    }

    [Fact]
    public void CountTokens_NothingAppended_ReturnsZero()
    {
        using var accumulator = new CompletionTokenAccumulator(SharedTokenizers.O200k);

        Assert.Equal(0, accumulator.CountTokens());
    }

    [Fact]
    public void CountTokens_CalledMidStream_KeepsAccumulating()
    {
        using var accumulator = new CompletionTokenAccumulator(SharedTokenizers.Cl100k);
        accumulator.Append("hello");
        int first = accumulator.CountTokens();

        accumulator.Append(" world");

        Assert.Equal((1, 2), (first, accumulator.CountTokens()));
    }

    [Fact]
    public void Append_LongRunWithoutSpaces_StaysCloseAndBounded()
    {
        var bytes = new byte[300_000];
        new Random(7).NextBytes(bytes);
        string base64 = Convert.ToBase64String(bytes);
        using var accumulator = new CompletionTokenAccumulator(SharedTokenizers.O200k);

        for (int i = 0; i < base64.Length; i += 100)
        {
            accumulator.Append(base64.AsSpan(i, Math.Min(100, base64.Length - i)));
        }

        int whole = SharedTokenizers.O200k.CountTokens(base64);
        Assert.InRange(accumulator.CountTokens(), whole * 0.98, whole * 1.02);
    }

    private static string LongAnswer()
    {
        var builder = new StringBuilder();
        for (int i = 0; builder.Length < 30_000; i++)
        {
            builder.Append(System.Globalization.CultureInfo.InvariantCulture, $"Step {i}: call `Compute({i})`, then check the result — it's fine.\n\n");
            builder.Append("  Indented code:    var x = y ?? z;  // comment with émojis 🎉 and 中文。\n");
        }

        return builder.ToString();
    }
}
