using System.Text.Json;

namespace AiGateway.Tokens;

/// <summary>
/// Counts the completion tokens of a stream from its text, for a stream that ended without a <c>usage</c> chunk
/// (client abort, upstream failure, a provider that sends none). One per streamed response; not thread-safe.
/// </summary>
/// <remarks>
/// The pipeline feeds every text delta it relays: <c>choices[].delta.content</c>, <c>refusal</c> and tool-call
/// <c>arguments</c>/<c>name</c>. Appending copies the delta (amortized O(delta)); every
/// <see cref="FlushChars"/> characters the text before the last word boundary is counted and dropped, so memory
/// stays bounded however long the stream. A boundary is a space between a non-space and a letter: tiktoken's
/// pre-tokenizer never joins across one, so counting in pieces gives exactly the whole text's count.
/// </remarks>
internal sealed class CompletionTokenAccumulator : IDisposable
{
    /// <summary>Pending text length at which the accumulator counts and drops a prefix.</summary>
    public const int FlushChars = 4096;

    // Past this, text without any word boundary (e.g. base64) is counted anyway, at most a token off per cut.
    private const int ForcedFlushChars = 16 * FlushChars;

    private readonly TextTokenCounter _counter;
    private readonly PooledCharBuffer _pending = new(FlushChars);
    private long _countedTokens;

    public CompletionTokenAccumulator(TextTokenCounter counter) => _counter = counter;

    /// <summary>Appends a text delta.</summary>
    public void Append(ReadOnlySpan<char> delta)
    {
        _pending.Append(delta);
        FlushIfLarge();
    }

    /// <summary>Appends the value of a JSON string delta without allocating a string; ignores non-strings.</summary>
    public void Append(JsonElement delta)
    {
        if (delta.ValueKind == JsonValueKind.String)
        {
            _pending.AppendJsonString(delta);
            FlushIfLarge();
        }
    }

    /// <summary>The tokens of everything appended so far. Appending may continue afterwards.</summary>
    public int CountTokens() =>
        (int)Math.Min(int.MaxValue, _countedTokens + _counter.CountTokens(_pending.WrittenSpan));

    public void Dispose() => _pending.Dispose();

    private void FlushIfLarge()
    {
        if (_pending.Length < FlushChars)
        {
            return;
        }

        ReadOnlySpan<char> text = _pending.WrittenSpan;
        int split = LastWordBoundary(text);
        if (split <= 0 && text.Length >= ForcedFlushChars)
        {
            split = text.Length - 1;
            if (char.IsHighSurrogate(text[split - 1]))
            {
                split--;
            }
        }

        if (split > 0)
        {
            _countedTokens += _counter.CountTokens(text[..split]);
            _pending.RemoveFirst(split);
        }
    }

    private static int LastWordBoundary(ReadOnlySpan<char> text)
    {
        for (int i = text.Length - 2; i > 0; i--)
        {
            if (text[i] == ' ' && char.IsLetter(text[i + 1]) && !char.IsWhiteSpace(text[i - 1]))
            {
                return i;
            }
        }

        return -1;
    }
}
