using System.Buffers;

namespace AiGateway.Providers.Anthropic;

/// <summary>
/// A request or upstream payload that cannot be translated. Returned, never thrown, so bad client
/// input costs no exception; the caller writes it with the error shape of the surface it serves.
/// </summary>
/// <param name="StatusCode">400 for client input, 502 for an upstream payload we cannot read.</param>
/// <param name="Message">Safe to show the client: names the parameter, never echoes prompt text.</param>
/// <param name="Param">The offending parameter path (e.g. <c>messages[2].content[0].type</c>), if any.</param>
/// <param name="Code">A stable machine-readable reason.</param>
internal sealed record TranslationError(int StatusCode, string Message, string? Param, string Code)
{
    public static TranslationError InvalidJson() =>
        new(400, "The request body is not valid JSON.", null, "invalid_json");

    public static TranslationError InvalidType(string param, string expected) =>
        new(400, $"'{param}' must be {expected}.", param, "invalid_type");

    public static TranslationError Missing(string param) =>
        new(400, $"'{param}' is required.", param, "missing_required_parameter");

    public static TranslationError InvalidValue(string param, string message) =>
        new(400, message, param, "invalid_value");

    public static TranslationError Unsupported(string param, string message) =>
        new(400, message, param, "unsupported_parameter");

    public static TranslationError BadUpstream(string message) =>
        new(502, message, null, "invalid_upstream_response");

    /// <summary>Writes <c>{"error":{"message","type","param","code"}}</c> for the OpenAI surface.</summary>
    public void WriteOpenAI(IBufferWriter<byte> destination) =>
        ErrorTranslator.WriteOpenAIBody(destination, Message, ErrorTranslator.OpenAITypeForStatus(StatusCode), Param, Code);

    /// <summary>
    /// Writes <c>{"type":"error","error":{"type","message"}}</c> for the Anthropic surface, which has no
    /// param field, so the parameter is already part of <see cref="Message"/>.
    /// </summary>
    public void WriteAnthropic(IBufferWriter<byte> destination) =>
        ErrorTranslator.WriteAnthropicBody(destination, ErrorTranslator.AnthropicTypeForStatus(StatusCode), Message);
}
