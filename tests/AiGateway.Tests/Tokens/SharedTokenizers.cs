using AiGateway.Tokens;

namespace AiGateway.Tests.Tokens;

/// <summary>One registry for all token tests: loading the vocabularies takes ~0.4 s.</summary>
internal static class SharedTokenizers
{
    public static TokenizerRegistry Registry { get; } = CreateWarm();

    public static TextTokenCounter O200k => Registry.GetCounter(TokenEncodings.O200kBase);

    public static TextTokenCounter Cl100k => Registry.GetCounter(TokenEncodings.Cl100kBase);

    public static TextTokenCounter Get(string encoding) => Registry.GetCounter(encoding);

    private static TokenizerRegistry CreateWarm()
    {
        var registry = new TokenizerRegistry();
        registry.Warm();
        return registry;
    }
}
