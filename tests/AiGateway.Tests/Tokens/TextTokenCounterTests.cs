using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using AiGateway.Tokens;
using Microsoft.ML.Tokenizers;

namespace AiGateway.Tests.Tokens;

public class TextTokenCounterTests
{
    private static readonly Lazy<Tokenizer> s_rawO200k = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));
    private static readonly Lazy<Tokenizer> s_rawCl100k = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));

    private const int OneMegabyte = 1024 * 1024;

    // Counts published in OpenAI's cookbook "How to count tokens with tiktoken".
    [Theory]
    [InlineData("cl100k_base", "antidisestablishmentarianism", 6)]
    [InlineData("o200k_base", "antidisestablishmentarianism", 6)]
    [InlineData("cl100k_base", "2 + 2 = 4", 7)]
    [InlineData("o200k_base", "2 + 2 = 4", 7)]
    [InlineData("cl100k_base", "お誕生日おめでとう", 9)]
    [InlineData("o200k_base", "お誕生日おめでとう", 8)]
    [InlineData("cl100k_base", "tiktoken is great!", 6)]
    [InlineData("cl100k_base", "hello world", 2)]
    [InlineData("o200k_base", "hello world", 2)]
    [InlineData("o200k_base", "", 0)]
    public void CountTokens_PublishedExamples_MatchesPublishedCount(string encoding, string text, int expected) =>
        Assert.Equal(expected, SharedTokenizers.Get(encoding).CountTokens(text));

    [Theory]
    [InlineData("o200k_base")]
    [InlineData("cl100k_base")]
    public void MaxTokenId_IsEndOfText_AndDecodeRoundTrips(string encoding)
    {
        var counter = SharedTokenizers.Get(encoding);

        Assert.Equal("<|endoftext|>", counter.Decode([counter.MaxTokenId]));
        Assert.NotEmpty(counter.Decode([counter.MaxTokenId - 2]));
        var ids = Raw(encoding).EncodeToIds("Hello, world! Привет 👋");
        Assert.Equal("Hello, world! Привет 👋", counter.Decode([.. ids]));
    }

    public static TheoryData<string, string> OrdinaryTexts()
    {
        var data = new TheoryData<string, string>();
        string[] texts =
        [
            "The quick brown fox jumps over the lazy dog.",
            "Hello, world! 👋🏽 Привет, мир! こんにちは世界。 مرحبا بالعالم",
            "👨‍👩‍👧‍👦🇫🇷🎉🎉🎉 family, flag and party",
            "Zürich, São Paulo, Ærøskøbing, naïve café — “quotes” and ‘apostrophes’ … ✓",
            "public static int Add(int a, int b) => a + b; // C# code\n\tif (x != null) { return x?.Value ?? 0; }\n",
            "{\"id\":42,\"name\":\"widget\",\"tags\":[\"a\",\"b\"],\"price\":12.5,\"nested\":{\"ok\":true}}",
            "https://example.com/path/to/resource?query=value&other=123#fragment",
            "Numbers 1234567890 3.14159 -42 1e10 and dates 2024-01-31T12:00:00Z",
            "line one\r\nline two\n\n\n    indented line\t\ttabs   trailing   \n",
            "中文文本没有空格但是有标点符号，所以预分词会在这里断开。日本語の文章も同じです。",
            "I'm sure they'll say we've done what you'd've expected, isn't it?",
            "<|endoftext|> is special",
        ];
        foreach (string text in texts)
        {
            data.Add("o200k_base", text);
            data.Add("cl100k_base", text);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OrdinaryTexts))]
    public void CountTokens_OrdinaryText_EqualsTokenizerCount(string encoding, string text) =>
        Assert.Equal(Raw(encoding).CountTokens(text), SharedTokenizers.Get(encoding).CountTokens(text));

    [Theory]
    [InlineData("o200k_base")]
    [InlineData("cl100k_base")]
    public void CountTokens_LongOrdinaryProse_EqualsTokenizerCount(string encoding)
    {
        var builder = new StringBuilder();
        for (int i = 0; builder.Length < 200_000; i++)
        {
            builder.Append(CultureInfo.InvariantCulture, $"Paragraph {i}: the gateway counts tokens exactly for ordinary text, ");
            builder.Append("including JSON like {\"a\":[1,2,3]} and emoji 🚀.\n");
        }

        string text = builder.ToString();

        Assert.Equal(Raw(encoding).CountTokens(text), SharedTokenizers.Get(encoding).CountTokens(text));
    }

    [Theory]
    [InlineData("o200k_base", "\"Hello\\nworld \\u00e9\\ud83d\\ude00\"", "Hello\nworld é😀")]
    [InlineData("cl100k_base", "\"tab\\there \\\"quoted\\\" \\/slash\"", "tab\there \"quoted\" /slash")]
    public void CountTokens_EscapedJsonString_CountsUnescapedValue(string encoding, string json, string unescaped)
    {
        using var document = JsonDocument.Parse(json);

        Assert.Equal(Raw(encoding).CountTokens(unescaped), SharedTokenizers.Get(encoding).CountTokens(document.RootElement));
    }

    [Fact]
    public void CountTokens_LongJsonString_UsesPooledBufferAndCountsValue()
    {
        string value = string.Concat(Enumerable.Repeat("some words and \\n escapes ", 100));
        using var document = JsonDocument.Parse($"\"{value}\"");

        Assert.Equal(
            SharedTokenizers.O200k.CountTokens(document.RootElement.GetString()),
            SharedTokenizers.O200k.CountTokens(document.RootElement));
    }

    [Fact]
    public void CountTokens_SameJsonStringAgain_RememberedCountIsTheExactCount()
    {
        var counter = new TextTokenCounter("o200k_base", Raw("o200k_base"));
        const string text = "You are a helpful assistant. Answer in one short sentence, please.";
        using var first = JsonDocument.Parse(JsonSerializer.Serialize(text));
        using var again = JsonDocument.Parse(JsonSerializer.Serialize(text));

        var counted = counter.CountTokens(first.RootElement);
        var remembered = counter.CountTokens(again.RootElement);

        Assert.Equal(Raw("o200k_base").CountTokens(text), counted);
        Assert.Equal(counted, remembered);
    }

    [Fact]
    public void CountTokens_DifferentStringsOfEqualLength_EachCountedExactly()
    {
        var counter = new TextTokenCounter("o200k_base", Raw("o200k_base"));
        // Same byte length, very different token counts: a memo keyed on anything weaker than the content would mix them up.
        string[] texts = ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "a b c d e f g h i j k l m n o p q r s t ", "Hello there, how are you doing today?!?!"];
        foreach (var round in Enumerable.Range(0, 2))
        {
            foreach (var text in texts)
            {
                using var document = JsonDocument.Parse(JsonSerializer.Serialize(text));
                Assert.Equal(Raw("o200k_base").CountTokens(text), counter.CountTokens(document.RootElement));
            }
        }
    }

    [Fact]
    public void CountMemo_AddThenGet_HitsOnlyForTheSameBytes()
    {
        var memo = new TextTokenCounter.CountMemo();
        var text = "\"a string long enough to be remembered\""u8;

        Assert.False(memo.TryGet(text, out var hash, out _));
        memo.Add(hash, text.Length, 42);

        Assert.True(memo.TryGet(text, out _, out var tokens));
        Assert.Equal(42, tokens);
        Assert.False(memo.TryGet("\"a string long enough to be remembereD\""u8, out _, out _));
        Assert.False(memo.TryGet("\"short\""u8, out var shortHash, out _));
        memo.Add(shortHash, 7, 1);
        Assert.True(memo.TryGet("\"short\""u8, out _, out var shortTokens));
        Assert.Equal(1, shortTokens);
    }

    [Fact]
    public void CountTokens_JsonNumber_Throws()
    {
        using var document = JsonDocument.Parse("42");

        Assert.Throws<InvalidOperationException>(() => SharedTokenizers.O200k.CountTokens(document.RootElement));
    }

    // (name, 1 MB text, expected count range for both encodings). The exact counts are the tokenizer's
    // on the same input, measured once; the range leaves room for chunk boundaries and sampling.
    public static TheoryData<string, string> PathologicalInputs()
    {
        var data = new TheoryData<string, string>();
        foreach (string encoding in new[] { "o200k_base", "cl100k_base" })
        {
            data.Add(encoding, "repeated-letter");
            data.Add(encoding, "random-base64");
            data.Add(encoding, "spaces");
            data.Add(encoding, "accented-letter");
            data.Add(encoding, "alternating-ascii-accented");
            data.Add(encoding, "punctuation");
            data.Add(encoding, "emoji");
            data.Add(encoding, "runs-just-below-threshold");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PathologicalInputs))]
    public void CountTokens_OneMegabytePathologicalPrompt_IsFastAndInRange(string encoding, string kind)
    {
        string text = Pathological(kind);
        var counter = SharedTokenizers.Get(encoding);
        counter.CountTokens(text.AsSpan(0, 10_000));

        var stopwatch = Stopwatch.StartNew();
        int tokens = counter.CountTokens(text);
        stopwatch.Stop();

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1), $"{kind} took {stopwatch.ElapsedMilliseconds} ms");
        var (min, max) = ExpectedRange(kind, text.Length);
        Assert.InRange(tokens, min, max);
    }

    [Theory]
    [InlineData("o200k_base")]
    [InlineData("cl100k_base")]
    public void CountTokens_RandomBase64_WithinOnePercentOfExact(string encoding)
    {
        string text = Pathological("random-base64")[..200_000];
        int exact = Raw(encoding).CountTokens(text);

        int counted = SharedTokenizers.Get(encoding).CountTokens(text);

        Assert.InRange(counted, exact * 0.99, exact * 1.01);
    }

    [Theory]
    [InlineData("o200k_base", 20_000)]
    [InlineData("cl100k_base", 20_000)]
    [InlineData("o200k_base", 5_000)]
    public void CountTokens_RepeatedLetterRun_WithinTwoTokensOfExact(string encoding, int length)
    {
        string text = "Start " + new string('a', length) + " end.";
        int exact = Raw(encoding).CountTokens(text);

        Assert.InRange(SharedTokenizers.Get(encoding).CountTokens(text), exact - 2, exact + 2);
    }

    [Fact]
    public void CountTokens_LongEmojiRun_DoesNotSplitSurrogatePairs()
    {
        string text = string.Concat(Enumerable.Repeat("😀", 1000));
        int exact = Raw("o200k_base").CountTokens(text);

        int counted = SharedTokenizers.O200k.CountTokens(text);

        Assert.InRange(counted, exact, exact + (text.Length * 2 / TextTokenCounter.ChunkBytes) + 1);
    }

    private static (int Min, int Max) ExpectedRange(string kind, int length) => kind switch
    {
        // a×8 is one token in both encodings: exactly length / 8.
        "repeated-letter" => (length / 8, length / 8),
        // Random base64 tokenizes at ~0.68 (o200k) to ~0.72 (cl100k) tokens per char.
        "random-base64" => ((int)(length * 0.65), (int)(length * 0.75)),
        // Whitespace and repeated symbols merge into long tokens: far fewer tokens than chars, never zero.
        "spaces" or "punctuation" => (length / 300, length / 4),
        // é and ß-like letters: between 1 token per 8 chars and 1 per char.
        "accented-letter" or "alternating-ascii-accented" => (length / 8, length),
        // An emoji is two chars and one to three tokens.
        "emoji" => (length / 2, length * 3 / 2),
        "runs-just-below-threshold" => (length / 10, length / 4),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static string Pathological(string kind)
    {
        switch (kind)
        {
            case "repeated-letter":
                return new string('a', OneMegabyte);
            case "random-base64":
                var bytes = new byte[OneMegabyte * 3 / 4];
                new Random(20240601).NextBytes(bytes);
                return Convert.ToBase64String(bytes);
            case "spaces":
                return new string(' ', OneMegabyte);
            case "accented-letter":
                return new string('é', OneMegabyte);
            case "alternating-ascii-accented":
                return string.Create(OneMegabyte, 0, (span, _) =>
                {
                    for (int i = 0; i < span.Length; i++)
                    {
                        span[i] = i % 2 == 0 ? 'a' : 'é';
                    }
                });
            case "punctuation":
                return new string('!', OneMegabyte);
            case "emoji":
                return string.Concat(Enumerable.Repeat("🚀", OneMegabyte / 2));
            case "runs-just-below-threshold":
                var builder = new StringBuilder(OneMegabyte + 1024);
                while (builder.Length < OneMegabyte)
                {
                    builder.Append('x', TextTokenCounter.OpaqueRunChars - 1).Append(' ');
                }

                return builder.ToString();
            default:
                throw new ArgumentOutOfRangeException(nameof(kind));
        }
    }

    private static Tokenizer Raw(string encoding) => encoding == "o200k_base" ? s_rawO200k.Value : s_rawCl100k.Value;
}
