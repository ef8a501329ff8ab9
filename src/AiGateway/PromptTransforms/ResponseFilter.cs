using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;

namespace AiGateway.PromptTransforms;

/// <summary>
/// What the response relay does for one request's prompt transforms: put redacted values back
/// (non-streamed JSON answers) and check streamed answers against output guardrails.
/// </summary>
internal sealed class ResponseFilter
{
    /// <summary>Characters of already-checked streamed text re-checked with each new delta, so a match split across deltas is still found.</summary>
    public const int OutputOverlap = 256;

    private readonly Dictionary<string, byte[]>? _restore;
    private readonly int _longestPlaceholder;

    public ResponseFilter(Dictionary<string, string>? originals, GuardrailRule[] outputRules)
    {
        Originals = originals;
        OutputRules = outputRules;
        if (originals is { Count: > 0 })
        {
            // Values go back inside JSON strings, so they are JSON-escaped (without quotes).
            _restore = originals.ToDictionary(p => p.Key, p => Encoding.UTF8.GetBytes(JavaScriptEncoder.UnsafeRelaxedJsonEscaping.Encode(p.Value)), StringComparer.Ordinal);
            _longestPlaceholder = originals.Keys.Max(k => k.Length);
        }
    }

    /// <summary>Placeholder → original value, or null when nothing is restored.</summary>
    public Dictionary<string, string>? Originals { get; }

    /// <summary>Guardrail rules with <c>checkOutput</c>.</summary>
    public GuardrailRule[] OutputRules { get; }

    public bool Restores => _restore is not null;

    /// <summary>A streaming restorer for one response body.</summary>
    public PlaceholderRestorer CreateRestorer() => new(_restore!, _longestPlaceholder);

    /// <summary>The first output rule the new text (plus an overlap of already-checked text) matches, or null.</summary>
    public GuardrailRule? CheckOutput(StringBuilder text, ref int checkedUpTo)
    {
        if (OutputRules.Length == 0 || text.Length == checkedUpTo) return null;
        var start = Math.Max(0, checkedUpTo - OutputOverlap);
        var window = text.ToString(start, text.Length - start);
        checkedUpTo = text.Length;
        foreach (var rule in OutputRules)
        {
            try
            {
                if (rule.IsMatch(window)) return rule;
            }
            catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
            {
                // Fail closed: an answer that cannot be checked in time is not passed on.
                return rule;
            }
        }
        return null;
    }
}

/// <summary>
/// Replaces <c>[LABEL_N]</c> placeholders in a byte stream with their original values, holding back
/// at most one placeholder's length at a chunk boundary; nothing else is buffered.
/// </summary>
internal sealed class PlaceholderRestorer(Dictionary<string, byte[]> replacements, int longest)
{
    private byte[] _carry = [];

    public void Write(ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        byte[]? joined = null;
        if (_carry.Length > 0)
        {
            joined = new byte[_carry.Length + input.Length];
            _carry.CopyTo(joined, 0);
            input.CopyTo(joined.AsSpan(_carry.Length));
            input = joined;
            _carry = [];
        }

        var position = 0;
        while (position < input.Length)
        {
            var open = input[position..].IndexOf((byte)'[');
            if (open < 0)
            {
                output.Write(input[position..]);
                return;
            }
            open += position;
            output.Write(input[position..open]);
            var rest = input[open..];
            var close = rest[..Math.Min(rest.Length, longest)].IndexOf((byte)']');
            if (close < 0)
            {
                if (rest.Length < longest)
                {
                    // May be the start of a placeholder whose end is in the next chunk.
                    _carry = rest.ToArray();
                    return;
                }
                output.Write(rest[..1]);
                position = open + 1;
                continue;
            }
            var candidate = Encoding.ASCII.GetString(rest[..(close + 1)]);
            if (replacements.TryGetValue(candidate, out var original))
            {
                output.Write(original);
                position = open + close + 1;
            }
            else
            {
                output.Write(rest[..1]);
                position = open + 1;
            }
        }
    }

    /// <summary>Writes whatever was held back at the end of the body.</summary>
    public void Complete(IBufferWriter<byte> output)
    {
        output.Write(_carry);
        _carry = [];
    }
}
