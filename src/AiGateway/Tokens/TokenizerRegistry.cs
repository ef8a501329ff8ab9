using Microsoft.ML.Tokenizers;

namespace AiGateway.Tokens;

/// <summary>
/// Creates each tiktoken tokenizer once (the vocabularies are embedded in the Microsoft.ML.Tokenizers.Data.* packages)
/// and hands out the <see cref="TextTokenCounter"/> for a model. A singleton; thread-safe.
/// </summary>
/// <remarks>
/// Creation is lazy so that a counter asked for before <see cref="Warm"/> still works, but loading o200k takes
/// ~0.3 s: <see cref="TokenizerWarmupService"/> calls <see cref="Warm"/> at start-up so no request pays it.
/// </remarks>
internal sealed class TokenizerRegistry
{
    private readonly Lazy<TextTokenCounter> _o200k = new(() => Create(TokenEncodings.O200kBase));
    private readonly Lazy<TextTokenCounter> _cl100k = new(() => Create(TokenEncodings.Cl100kBase));

    /// <summary>The counter for <paramref name="encoding"/>, one of <see cref="TokenEncodings.Supported"/>.</summary>
    /// <exception cref="ArgumentException">The encoding is not supported; catalog validation should have caught it.</exception>
    public TextTokenCounter GetCounter(string encoding) => encoding switch
    {
        TokenEncodings.O200kBase => _o200k.Value,
        TokenEncodings.Cl100kBase => _cl100k.Value,
        _ => throw new ArgumentException(
            $"Unsupported token encoding '{encoding}'; expected one of: {string.Join(", ", TokenEncodings.Supported)}.",
            nameof(encoding)),
    };

    /// <summary>
    /// The counter for a model: <paramref name="encodingOverride"/> (the catalog model's explicit encoding) when set,
    /// otherwise the encoding <see cref="TokenEncodings.ForModel"/> maps <paramref name="model"/> to.
    /// </summary>
    public TextTokenCounter GetCounterForModel(string? model, string? encodingOverride = null) =>
        GetCounter(string.IsNullOrEmpty(encodingOverride) ? TokenEncodings.ForModel(model) : encodingOverride);

    /// <summary>Loads every encoding and runs one count through each, so JIT and regex set-up happen now.</summary>
    public void Warm()
    {
        foreach (string encoding in TokenEncodings.Supported)
        {
            GetCounter(encoding).CountTokens("Warm-up: the quick brown fox jumps over the lazy dog. 12345 ✓");
        }
    }

    private static TextTokenCounter Create(string encoding) =>
        new(encoding, TiktokenTokenizer.CreateForEncoding(encoding));
}
