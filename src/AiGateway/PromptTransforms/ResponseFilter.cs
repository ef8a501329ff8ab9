using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

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

    /// <summary>A restorer for the content deltas of one chat-completion event stream.</summary>
    public StreamPlaceholderRestorer CreateStreamRestorer() => new(Originals!, _longestPlaceholder);

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

/// <summary>
/// Restores placeholders in the <c>delta.content</c> of chat-completion chunks. A model emits a
/// placeholder over several deltas, so an unfinished <c>[…</c> at the end of a delta is held back (at
/// most one placeholder's length) and sent with the next delta of that choice, or with its finishing chunk.
/// </summary>
internal sealed class StreamPlaceholderRestorer(Dictionary<string, string> originals, int longest)
{
    private readonly Dictionary<int, string> _held = [];

    /// <summary>The event's data with placeholders restored, or null when it stays as it is.</summary>
    public byte[]? Rewrite(ReadOnlySpan<byte> data)
    {
        if (_held.Count == 0 && data.IndexOf((byte)'[') < 0) return null;
        JsonObject? chunk;
        try
        {
            chunk = JsonNode.Parse(data) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
        if (chunk?["choices"] is not JsonArray choices) return null;

        var changed = false;
        foreach (var choice in choices.OfType<JsonObject>())
        {
            var index = choice["index"] is JsonValue i && i.TryGetValue<int>(out var n) ? n : 0;
            var finished = choice["finish_reason"] is JsonValue reason && reason.GetValueKind() == JsonValueKind.String;
            var delta = choice["delta"] as JsonObject;
            var content = delta?["content"] is JsonValue c && c.GetValueKind() == JsonValueKind.String ? c.GetValue<string>() : null;
            _held.Remove(index, out var held);
            if (content is null && held is null) continue;

            var restored = Restore((held ?? "") + (content ?? ""), out var tail);
            if (tail.Length > 0)
            {
                if (finished) restored += tail;
                else _held[index] = tail;
            }
            if (restored != content)
            {
                delta ??= [];
                choice["delta"] = delta;
                delta["content"] = restored;
                changed = true;
            }
        }
        if (!changed) return null;
        var buffer = new ArrayBufferWriter<byte>(data.Length + 64);
        using (var writer = new Utf8JsonWriter(buffer, Protocol.OpenAiError.WriterOptions))
        {
            chunk.WriteTo(writer);
        }
        return buffer.WrittenSpan.ToArray();
    }

    private string Restore(string text, out string tail)
    {
        tail = "";
        var result = new StringBuilder(text.Length);
        var position = 0;
        while (position < text.Length)
        {
            var open = text.IndexOf('[', position);
            if (open < 0)
            {
                result.Append(text, position, text.Length - position);
                break;
            }
            result.Append(text, position, open - position);
            var close = text.IndexOf(']', open);
            if (close < 0 || close - open + 1 > longest)
            {
                if (close < 0 && text.Length - open < longest)
                {
                    tail = text[open..];
                    break;
                }
                result.Append('[');
                position = open + 1;
                continue;
            }
            if (originals.TryGetValue(text[open..(close + 1)], out var original))
            {
                result.Append(original);
                position = close + 1;
            }
            else
            {
                result.Append('[');
                position = open + 1;
            }
        }
        return result.ToString();
    }
}
