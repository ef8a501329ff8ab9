namespace AiGateway.Tokens;

/// <summary>
/// The tiktoken encodings the gateway counts with, and the map from a model name to its encoding.
/// </summary>
/// <remarks>
/// Matching is by case-insensitive prefix on the model name after any provider or path prefix
/// (<c>openai/gpt-4o</c> → <c>gpt-4o</c>) and the fine-tune marker (<c>ft:gpt-4o-mini:org::id</c> → <c>gpt-4o-mini</c>),
/// first match wins:
/// <list type="table">
/// <item><term><c>o200k_base</c></term><description><c>gpt-4o*</c>, <c>chatgpt-4o*</c>, <c>gpt-4.1*</c>, <c>gpt-4.5*</c>,
/// <c>gpt-5*</c>, <c>o1*</c>, <c>o3*</c>, <c>o4*</c>, <c>gpt-oss*</c>, <c>omni-moderation*</c>.</description></item>
/// <item><term><c>cl100k_base</c></term><description><c>gpt-4*</c> (gpt-4, gpt-4-turbo, gpt-4-32k), <c>gpt-3.5*</c>,
/// <c>gpt-35*</c> (Azure's spelling), <c>text-embedding-3*</c>, <c>text-embedding-ada-002</c>.</description></item>
/// <item><term><c>cl100k_base</c>, approximate</term><description><c>claude*</c>, <c>llama*</c>, <c>mistral*</c>,
/// <c>mixtral*</c>, <c>codestral*</c>, <c>gemini*</c>. Their tokenizers are not tiktoken encodings (Llama 3's vocabulary
/// starts from cl100k's 100k tokens; Claude's is unpublished). cl100k gives a few percent more tokens than o200k on
/// most text, which errs on the side of reserving more; the reservation is settled with the upstream's real usage.</description></item>
/// <item><term><c>o200k_base</c>, approximate</term><description>anything else: the encoding of every current
/// OpenAI model family.</description></item>
/// </list>
/// A catalog model may name its encoding explicitly, which wins over this map.
/// </remarks>
internal static class TokenEncodings
{
    /// <summary>The encoding of gpt-4o, gpt-4.1, gpt-5 and the o-series.</summary>
    public const string O200kBase = "o200k_base";

    /// <summary>The encoding of gpt-4, gpt-3.5-turbo and the text-embedding-3 / ada-002 models.</summary>
    public const string Cl100kBase = "cl100k_base";

    /// <summary>The encoding used for a model no rule matches.</summary>
    public const string Default = O200kBase;

    // Order matters: the gpt-4o / gpt-4.1 / gpt-4.5 rules must precede the generic gpt-4 rule.
    private static readonly (string Prefix, string Encoding)[] s_prefixes =
    [
        ("gpt-4o", O200kBase),
        ("chatgpt-4o", O200kBase),
        ("gpt-4.1", O200kBase),
        ("gpt-4.5", O200kBase),
        ("gpt-5", O200kBase),
        ("o1", O200kBase),
        ("o3", O200kBase),
        ("o4", O200kBase),
        ("gpt-oss", O200kBase),
        ("omni-moderation", O200kBase),
        ("gpt-4", Cl100kBase),
        ("gpt-3.5", Cl100kBase),
        ("gpt-35", Cl100kBase),
        ("text-embedding-3", Cl100kBase),
        ("text-embedding-ada-002", Cl100kBase),
        ("claude", Cl100kBase),
        ("llama", Cl100kBase),
        ("mistral", Cl100kBase),
        ("mixtral", Cl100kBase),
        ("codestral", Cl100kBase),
        ("gemini", Cl100kBase),
    ];

    /// <summary>Every encoding name a catalog model may configure.</summary>
    public static IReadOnlyList<string> Supported { get; } = [O200kBase, Cl100kBase];

    /// <summary>Whether <paramref name="encoding"/> is one of <see cref="Supported"/> (ordinal, case-sensitive as in tiktoken).</summary>
    public static bool IsSupported(string? encoding) => encoding is O200kBase or Cl100kBase;

    /// <summary>The encoding for <paramref name="model"/>; <see cref="Default"/> for null, empty or unknown names.</summary>
    public static string ForModel(string? model)
    {
        if (string.IsNullOrEmpty(model))
        {
            return Default;
        }

        ReadOnlySpan<char> name = model.AsSpan().Trim();
        if (name.StartsWith("ft:", StringComparison.OrdinalIgnoreCase))
        {
            name = name[3..];
            int colon = name.IndexOf(':');
            if (colon >= 0)
            {
                name = name[..colon];
            }
        }

        int slash = name.LastIndexOf('/');
        if (slash >= 0)
        {
            name = name[(slash + 1)..];
        }

        foreach (var (prefix, encoding) in s_prefixes)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return encoding;
            }
        }

        return Default;
    }
}
