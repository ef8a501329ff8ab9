using System.Text.RegularExpressions;

namespace AiGateway.PromptTransforms;

/// <summary>
/// Every regular expression that sees prompt or answer text is built here: <c>NonBacktracking</c> keeps
/// matching linear in the input, and the timeout bounds it even so, so a hostile prompt cannot stall a thread.
/// </summary>
internal static class PromptRegex
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(250);

    public static Regex Create(string pattern, bool ignoreCase = false) =>
        new(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None), Timeout);

    /// <summary>Compiles <paramref name="pattern"/> as the gateway would; returns why it cannot, or null.</summary>
    public static string? Check(string? pattern)
    {
        if (string.IsNullOrEmpty(pattern)) return "must not be empty.";
        try
        {
            _ = Create(pattern);
            return null;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            return $"is not a usable regular expression ({e.Message.TrimEnd('.')}); backreferences, lookarounds and atomic groups are not supported.";
        }
    }
}
