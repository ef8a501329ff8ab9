using System.Text;
using System.Text.RegularExpressions;

namespace AiGateway.PromptTransforms;

/// <summary>One kind of personal data or secret: a pattern, and a check that rules out look-alikes.</summary>
internal sealed class PiiDetector(string name, Regex pattern, Func<string, bool>? verify = null)
{
    /// <summary>The detector's name, as in config and errors.</summary>
    public string Name { get; } = name;

    /// <summary>Placeholder prefix: <c>EMAIL</c> → <c>[EMAIL_1]</c>.</summary>
    public string Label { get; } = name.ToUpperInvariant();

    public Regex Pattern { get; } = pattern;

    public bool Verify(string match) => verify is null || verify(match);
}

/// <summary>
/// The built-in detectors. Patterns are strict (separators, lengths, prefixes) and checksums (Luhn,
/// IBAN mod-97) reject random digit runs, so ordinary prose and code pass untouched.
/// </summary>
internal static class PiiDetectors
{
    /// <summary>Most specific first: a private-key block is masked whole before anything inside it could match.</summary>
    public static readonly PiiDetector[] BuiltIn =
    [
        new("private_key", PromptRegex.Create(@"-----BEGIN [A-Z ]{0,40}PRIVATE KEY( BLOCK)?-----[\s\S]*?-----END [A-Z ]{0,40}PRIVATE KEY( BLOCK)?-----")),
        new("jwt", PromptRegex.Create(@"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}")),
        new("aws_key", PromptRegex.Create(@"\b(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b|\baws_?secret_?access_?key\s*[=:]\s*""?[A-Za-z0-9/+=]{40}\b", ignoreCase: false)),
        new("api_key", PromptRegex.Create(@"\b(sk|rk|pk)-(proj-|ant-(api\d\d-)?|live-|test-|svcacct-)?[A-Za-z0-9_-]{20,}|\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bxox[abprs]-[A-Za-z0-9-]{10,}|\bAIza[0-9A-Za-z_-]{35}\b|\bglpat-[A-Za-z0-9_-]{20,}")),
        new("email", PromptRegex.Create(@"\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b")),
        new("iban", PromptRegex.Create(@"\b[A-Z]{2}[0-9]{2}( ?[A-Z0-9]{4}){2,7}( ?[A-Z0-9]{1,3})?\b"), IsValidIban),
        new("credit_card", PromptRegex.Create(@"\b[0-9]([ -]?[0-9]){12,18}\b"), IsValidCard),
        new("phone", PromptRegex.Create(@"\+[0-9]{1,3}([ .-]?\(?[0-9]{1,4}\)?){2,5}\b|(\([0-9]{3}\)|\b[0-9]{3})[ .-]?[0-9]{3}[ .-][0-9]{4}\b"), IsPlausiblePhone),
        new("ip_address", PromptRegex.Create(@"\b((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\b|\b([0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}\b|\b([0-9A-Fa-f]{1,4}:){1,6}:[0-9A-Fa-f]{1,4}\b")),
    ];

    public static readonly string[] Names = BuiltIn.Select(d => d.Name).ToArray();

    /// <summary>Luhn checksum over 13 to 19 digits.</summary>
    public static bool IsValidCard(string candidate)
    {
        Span<int> digits = stackalloc int[32];
        var count = 0;
        foreach (var c in candidate)
        {
            if (char.IsAsciiDigit(c))
            {
                if (count == digits.Length) return false;
                digits[count++] = c - '0';
            }
        }
        if (count is < 13 or > 19) return false;
        var sum = 0;
        for (var i = 0; i < count; i++)
        {
            var d = digits[count - 1 - i];
            if (i % 2 == 1)
            {
                d *= 2;
                if (d > 9) d -= 9;
            }
            sum += d;
        }
        return sum % 10 == 0;
    }

    /// <summary>ISO 13616: move the first four characters to the end, letters to numbers, the whole mod 97 must be 1.</summary>
    public static bool IsValidIban(string candidate)
    {
        var compact = candidate.Replace(" ", "", StringComparison.Ordinal);
        if (compact.Length is < 15 or > 34) return false;
        var rearranged = string.Concat(compact.AsSpan(4), compact.AsSpan(0, 4));
        var remainder = 0;
        foreach (var c in rearranged)
        {
            int value;
            if (char.IsAsciiDigit(c)) value = c - '0';
            else if (char.IsAsciiLetterUpper(c)) value = c - 'A' + 10;
            else return false;
            remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
        }
        return remainder == 1;
    }

    /// <summary>9 to 15 digits (E.164). Only international (<c>+…</c>) and North-American (<c>555-123-4567</c>) formats are detected.</summary>
    public static bool IsPlausiblePhone(string candidate)
    {
        var digits = candidate.Count(char.IsAsciiDigit);
        return digits is >= 9 and <= 15;
    }
}

/// <summary>
/// Masks or finds PII in one request's text. Equal values get equal placeholders (<c>[EMAIL_1]</c>)
/// across all messages of the request, so the model can still tell them apart and refer back.
/// </summary>
internal sealed class PiiRedactor(IReadOnlyList<PiiDetector> detectors)
{
    private readonly Dictionary<string, string> _placeholders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);

    /// <summary>Placeholder → original value, for restoring answers.</summary>
    public Dictionary<string, string> Originals { get; } = new(StringComparer.Ordinal);

    /// <summary>Returns the text with every detected value replaced, or the same instance when nothing matched.</summary>
    public string Mask(string text)
    {
        foreach (var detector in detectors)
        {
            text = MaskOne(text, detector);
        }
        return text;
    }

    /// <summary>The first detector that finds something in <paramref name="text"/>, or null.</summary>
    public PiiDetector? Find(string text)
    {
        foreach (var detector in detectors)
        {
            for (var match = detector.Pattern.Match(text); match.Success; match = match.NextMatch())
            {
                if (IsStandalone(text, match) && detector.Verify(match.Value)) return detector;
            }
        }
        return null;
    }

    private string MaskOne(string text, PiiDetector detector)
    {
        StringBuilder? result = null;
        var copied = 0;
        for (var match = detector.Pattern.Match(text); match.Success; match = match.NextMatch())
        {
            if (!IsStandalone(text, match) || !detector.Verify(match.Value)) continue;
            result ??= new StringBuilder(text.Length);
            result.Append(text, copied, match.Index - copied).Append(PlaceholderFor(detector, match.Value));
            copied = match.Index + match.Length;
        }
        if (result is null) return text;
        return result.Append(text, copied, text.Length - copied).ToString();
    }

    private string PlaceholderFor(PiiDetector detector, string value)
    {
        var key = detector.Label + "\0" + value;
        if (!_placeholders.TryGetValue(key, out var placeholder))
        {
            _counts.TryGetValue(detector.Label, out var n);
            _counts[detector.Label] = ++n;
            placeholder = $"[{detector.Label}_{n}]";
            _placeholders[key] = placeholder;
            Originals[placeholder] = value;
        }
        return placeholder;
    }

    // Digits or letters glued to either side mean the match is part of a longer token (a hash, an id).
    private static bool IsStandalone(string text, Match match)
    {
        var before = match.Index > 0 ? text[match.Index - 1] : ' ';
        var afterIndex = match.Index + match.Length;
        var after = afterIndex < text.Length ? text[afterIndex] : ' ';
        return !char.IsAsciiLetterOrDigit(before) && before is not ('_' or '.' or '/' or '-' or '+' or '@')
            && !char.IsAsciiLetterOrDigit(after) && after is not ('_' or '@');
    }
}
