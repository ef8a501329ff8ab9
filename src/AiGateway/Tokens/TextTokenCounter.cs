using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace AiGateway.Tokens;

/// <summary>
/// Counts the tokens of text in one tiktoken encoding, in time linear in the length of the text.
/// Thread-safe; one instance per encoding lives in the <see cref="TokenizerRegistry"/>.
/// </summary>
/// <remarks>
/// <para>
/// BPE merging is quadratic in the length of one pre-token, and the tiktoken pre-tokenizer keeps a whole run of letters,
/// of symbols or of whitespace in one pre-token: 200,000 identical letters take ~20 s. Separately, the tokenizer emits
/// at most ~3 million tokens per second, so 1 MB of one-token characters (é, emoji, random base64) takes 0.3–0.8 s
/// even when linear. Long runs therefore never reach the tokenizer whole:
/// </para>
/// <list type="bullet">
/// <item>A long run is either a run of one character class (letters and marks, whitespace, or other symbols) longer
/// than <see cref="LongRunBytes"/> UTF-8 bytes, or an opaque run of at least <see cref="OpaqueRunChars"/> characters of
/// the base64/hex alphabet (<c>A–Z a–z 0–9 + / = - _</c>: inlined files, keys, hashes).</item>
/// <item>Its first <see cref="SampleChars"/> characters are counted in chunks of at most <see cref="ChunkBytes"/>
/// UTF-8 bytes (exact up to about one token per chunk boundary), and the rest is extrapolated at the sampled
/// tokens-per-character rate, rounded up. Such runs are uniform (random base64 ≈ 0.72 tokens per char in cl100k,
/// 0.68 in o200k; a repeated letter 0.125; é 1.0), so the estimate stays within about 1 % of the exact count while
/// its cost no longer grows with the run.</item>
/// </list>
/// <para>
/// Cost is O(n): one classification pass plus tokenizer work on at most n characters in pre-tokens of bounded
/// length. Text without long runs — prose, code, JSON, URLs, CJK with punctuation — is passed to the tokenizer whole
/// and gets exactly its count; its time is then the tokenizer's own (~50–80 ms per MB of English prose, up to ~0.4 s
/// per MB when nearly every character is a token). Scripts written without spaces (Thai, Lao, Khmer) can form letter
/// runs past <see cref="LongRunBytes"/>; those are chunked and may be off by about one token per chunk. The
/// pathological shapes (1 MB of one repeated character, of random base64, of spaces, é or emoji) count in 2–25 ms.
/// Special-token text such as <c>&lt;|endoftext|&gt;</c> is counted as
/// the special token (one token); OpenAI encodes it as plain text, a difference of a few tokens.
/// </para>
/// </remarks>
internal sealed class TextTokenCounter
{
    /// <summary>A same-class run longer than this many UTF-8 bytes is a long run.</summary>
    public const int LongRunBytes = 256;

    /// <summary>The largest chunk, in UTF-8 bytes, handed to the tokenizer when a long run is split.</summary>
    public const int ChunkBytes = 128;

    /// <summary>A base64/hex-alphabet run at least this many characters long is a long run.</summary>
    public const int OpaqueRunChars = 1024;

    /// <summary>How many leading characters of a long run are counted before extrapolating.</summary>
    public const int SampleChars = 2048;

    private const int StackallocChars = 256;

    private readonly Tokenizer _tokenizer;
    private readonly CountMemo _memo = new();

    public TextTokenCounter(string encoding, Tokenizer tokenizer)
    {
        Encoding = encoding;
        _tokenizer = tokenizer;
    }

    /// <summary>The tiktoken encoding name, e.g. <c>o200k_base</c>.</summary>
    public string Encoding { get; }

    /// <summary>
    /// The highest token id a prompt may hold: <c>&lt;|endoftext|&gt;</c>, which follows the regular tokens (the limit
    /// OpenAI states when it refuses a token-id prompt). The tokenizer does not expose its vocabulary's size.
    /// </summary>
    public int MaxTokenId => Encoding switch
    {
        TokenEncodings.O200kBase => 199_999,
        TokenEncodings.Cl100kBase => 100_257,
        _ => int.MaxValue,
    };

    /// <summary>The text of token ids, each from 0 to <see cref="MaxTokenId"/>.</summary>
    public string Decode(IReadOnlyList<int> ids) => _tokenizer.Decode(ids);

    /// <summary>The number of tokens in <paramref name="text"/>.</summary>
    public int CountTokens(ReadOnlySpan<char> text)
    {
        var memo = default(ChunkMemo);
        int total = 0;
        int gapStart = 0;
        int i = 0;
        while (i < text.Length)
        {
            if (!IsOpaque(text[i]))
            {
                i++;
                continue;
            }

            int runStart = i;
            while (i < text.Length && IsOpaque(text[i]))
            {
                i++;
            }

            if (i - runStart >= OpaqueRunChars)
            {
                total += CountBounded(text[gapStart..runStart], ref memo);
                total += CountOpaqueRun(text[runStart..i], ref memo);
                gapStart = i;
            }
        }

        return total + CountBounded(text[gapStart..], ref memo);
    }

    /// <summary>
    /// The number of tokens in the value of a JSON string element, unescaped without allocating. Counts of
    /// recent strings are remembered (<see cref="CountMemo"/>): chat clients resend the whole conversation and
    /// the same system prompt with every turn, so most of a prompt has been counted before.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="jsonString"/> is not a JSON string.</exception>
    public int CountTokens(JsonElement jsonString)
    {
        if (jsonString.ValueKind != JsonValueKind.String)
        {
            throw new InvalidOperationException($"Expected a JSON string, got {jsonString.ValueKind}.");
        }

        return CountJsonString(JsonMarshal.GetRawUtf8Value(jsonString));
    }

    /// <summary>
    /// The number of tokens in a JSON string token given as its raw UTF-8, quotes and escapes included (what a
    /// <see cref="Utf8JsonReader"/> spans from <c>TokenStartIndex</c> to <c>BytesConsumed</c>); remembered like
    /// <see cref="CountTokens(JsonElement)"/>, with which it shares the memo.
    /// </summary>
    public int CountJsonString(ReadOnlySpan<byte> raw)
    {
        if (_memo.TryGet(raw, out var hash, out var remembered))
        {
            return remembered;
        }
        var tokens = CountUnescaped(raw);
        _memo.Add(hash, raw.Length, tokens);
        return tokens;
    }

    private int CountUnescaped(ReadOnlySpan<byte> raw)
    {
        // The raw value (quotes and escapes included) has at least as many bytes as its unescaped value has chars.
        char[]? rented = null;
        Span<char> buffer = raw.Length <= StackallocChars
            ? stackalloc char[StackallocChars]
            : (rented = ArrayPool<char>.Shared.Rent(raw.Length));
        try
        {
            var reader = new Utf8JsonReader(raw);
            reader.Read();
            int length = reader.CopyString(buffer);
            return CountTokens(buffer[..length]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private int CountOpaqueRun(ReadOnlySpan<char> run, ref ChunkMemo memo) =>
        run.Length <= SampleChars
            ? CountBounded(run, ref memo)
            : Extrapolate(run, CountBounded(run[..SampleChars], ref memo), SampleChars);

    private int CountClassRun(ReadOnlySpan<char> run, ref ChunkMemo memo)
    {
        if (run.Length <= SampleChars)
        {
            return CountChunked(run, ref memo);
        }

        int sampleLength = char.IsHighSurrogate(run[SampleChars - 1]) ? SampleChars - 1 : SampleChars;
        return Extrapolate(run, CountChunked(run[..sampleLength], ref memo), sampleLength);
    }

    private static int Extrapolate(ReadOnlySpan<char> run, long sampledTokens, int sampleLength)
    {
        long rest = run.Length - sampleLength;
        long extrapolated = ((rest * sampledTokens) + sampleLength - 1) / sampleLength;
        return (int)Math.Min(int.MaxValue, sampledTokens + extrapolated);
    }

    // Cuts runs of one class longer than LongRunBytes out of the text; the rest goes to the tokenizer whole.
    private int CountBounded(ReadOnlySpan<char> text, ref ChunkMemo memo)
    {
        if (text.IsEmpty)
        {
            return 0;
        }

        int total = 0;
        int exactStart = 0;
        int runStart = 0;
        int runBytes = 0;
        var runClass = Classify(text[0]);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            var charClass = Classify(c);
            if (charClass != runClass)
            {
                if (runBytes > LongRunBytes && runClass != CharClass.Digit)
                {
                    total += CountExact(text[exactStart..runStart]) + CountClassRun(text[runStart..i], ref memo);
                    exactStart = i;
                }

                runClass = charClass;
                runStart = i;
                runBytes = 0;
            }

            runBytes += Utf8Length(c);
        }

        if (runBytes > LongRunBytes && runClass != CharClass.Digit)
        {
            return total + CountExact(text[exactStart..runStart]) + CountClassRun(text[runStart..], ref memo);
        }

        return total + CountExact(text[exactStart..]);
    }

    private int CountChunked(ReadOnlySpan<char> run, ref ChunkMemo memo)
    {
        int total = 0;
        while (!run.IsEmpty)
        {
            int end = 0;
            int bytes = 0;
            while (end < run.Length)
            {
                int length = Utf8Length(run[end]);
                if (bytes + length > ChunkBytes)
                {
                    break;
                }

                bytes += length;
                end++;
            }

            // Never split a surrogate pair.
            if (end < run.Length && end > 1 && char.IsHighSurrogate(run[end - 1]))
            {
                end--;
            }

            total += memo.Count(run[..end], this);
            run = run[end..];
        }

        return total;
    }

    private int CountExact(ReadOnlySpan<char> text) =>
        text.IsEmpty ? 0 : _tokenizer.CountTokens(text, considerPreTokenization: true, considerNormalization: true);

    private static bool IsOpaque(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=' or '-' or '_';

    private static int Utf8Length(char c) => c switch
    {
        < (char)0x80 => 1,
        < (char)0x800 => 2,
        _ when char.IsSurrogate(c) => 2,
        _ => 3,
    };

    private static CharClass Classify(char c)
    {
        if (char.IsAscii(c))
        {
            return char.IsAsciiLetter(c) ? CharClass.Letter
                : char.IsAsciiDigit(c) ? CharClass.Digit
                : char.IsWhiteSpace(c) ? CharClass.Space
                : CharClass.Other;
        }

        if (char.IsWhiteSpace(c))
        {
            return CharClass.Space;
        }

        return char.GetUnicodeCategory(c) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.NonSpacingMark
                or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => CharClass.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharClass.Digit,
            _ => CharClass.Other,
        };
    }

    // The costliest chunks are repetitive ones (a repeated character merges on every BPE pass), and repetition means
    // the same chunk comes again: remembering the last two chunks of this call makes those nearly free.
    private ref struct ChunkMemo
    {
        private ReadOnlySpan<char> _first;
        private ReadOnlySpan<char> _second;
        private int _firstTokens;
        private int _secondTokens;
        private bool _replaceSecond;

        public int Count(ReadOnlySpan<char> chunk, TextTokenCounter counter)
        {
            if (chunk.SequenceEqual(_first))
            {
                return _firstTokens;
            }

            if (chunk.SequenceEqual(_second))
            {
                return _secondTokens;
            }

            int tokens = counter.CountExact(chunk);
            if (_replaceSecond)
            {
                _second = chunk;
                _secondTokens = tokens;
            }
            else
            {
                _first = chunk;
                _firstTokens = tokens;
            }

            _replaceSecond = !_replaceSecond;
            return tokens;
        }
    }

    /// <summary>
    /// Token counts of recently seen JSON strings, keyed by a 64-bit hash of their raw UTF-8 (seeded per
    /// process, so collisions cannot be engineered) and their length. Direct-mapped: a slot holds the latest
    /// string that hashed to it, so memory is fixed (<see cref="Slots"/> entries) and lookups take no lock.
    /// Short strings too: a role such as "user" costs the tokenizer's regex pass, a lookup costs a hash.
    /// </summary>
    internal sealed class CountMemo
    {
        public const int Slots = 8192;

        private static readonly long Seed = Random.Shared.NextInt64();
        private readonly Entry?[] _entries = new Entry?[Slots];

        public bool TryGet(ReadOnlySpan<byte> raw, out ulong hash, out int tokens)
        {
            hash = System.IO.Hashing.XxHash3.HashToUInt64(raw, Seed);
            var entry = Volatile.Read(ref _entries[(int)(hash & (Slots - 1))]);
            if (entry is not null && entry.Hash == hash && entry.Length == raw.Length)
            {
                tokens = entry.Tokens;
                return true;
            }
            tokens = 0;
            return false;
        }

        public void Add(ulong hash, int length, int tokens)
        {
            Volatile.Write(ref _entries[(int)(hash & (Slots - 1))], new Entry(hash, length, tokens));
        }

        private sealed record Entry(ulong Hash, int Length, int Tokens);
    }

    private enum CharClass
    {
        Letter,
        Digit,
        Space,
        Other,
    }
}
