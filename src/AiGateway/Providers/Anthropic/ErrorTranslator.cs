using System.Buffers;
using System.Text.Json;

namespace AiGateway.Providers.Anthropic;

/// <summary>The status to answer with after translating an upstream error.</summary>
/// <param name="StatusCode">The HTTP status for the client.</param>
/// <param name="KeepRetryAfter">
/// Copy the upstream <c>retry-after</c> (and <c>retry-after-ms</c>) headers: the status tells the client to
/// come back later (429, or overloaded), so the upstream's hint is still the best one.
/// </param>
internal readonly record struct ErrorTranslation(int StatusCode, bool KeepRetryAfter);

/// <summary>Maps error responses between Anthropic's and OpenAI's shapes, in both directions.</summary>
internal static class ErrorTranslator
{
    // One row per Anthropic error type; both directions read this table so they cannot drift apart.
    // OpenAI has no 529: overloaded becomes 503, which OpenAI SDKs retry like Anthropic SDKs retry 529.
    private static readonly ErrorKind[] s_kinds =
    [
        new("invalid_request_error", 400, 400, "invalid_request_error"),
        new("authentication_error", 401, 401, "authentication_error"),
        new("billing_error", 402, 402, "insufficient_quota"),
        new("permission_error", 403, 403, "permission_error"),
        new("not_found_error", 404, 404, "not_found_error"),
        new("request_too_large", 413, 413, "invalid_request_error"),
        new("rate_limit_error", 429, 429, "rate_limit_error"),
        new("api_error", 500, 500, "server_error"),
        new("timeout_error", 504, 504, "server_error"),
        new("overloaded_error", 529, 503, "server_error"),
    ];

    /// <summary>
    /// Translates an Anthropic error response (<c>{"type":"error","error":{"type","message"}}</c>) into the
    /// OpenAI body <c>{"error":{"message","type","param","code"}}</c>. The Anthropic error type is kept
    /// as <c>code</c> so clients can still tell, say, overloaded from a plain server error. Unparseable
    /// bodies are mapped by status alone.
    /// </summary>
    public static ErrorTranslation AnthropicToOpenAI(int upstreamStatus, ReadOnlyMemory<byte> anthropicBody, IBufferWriter<byte> destination)
    {
        ReadError(anthropicBody, "error", out var type, out var message);
        var kind = FindByAnthropicType(type) ?? FindByAnthropicStatus(upstreamStatus);
        var status = kind?.OpenAIStatus ?? upstreamStatus;
        var openAIType = kind?.OpenAIType ?? (upstreamStatus >= 500 ? "server_error" : "invalid_request_error");
        WriteOpenAIBody(destination, message ?? $"The upstream provider returned HTTP {upstreamStatus}.", openAIType, null, type ?? kind?.AnthropicType);
        return new ErrorTranslation(status, status is 429 or 503);
    }

    /// <summary>
    /// Translates an OpenAI-compatible error response into Anthropic's error body, mapping the status
    /// the way Anthropic would have answered (503 becomes 529 <c>overloaded_error</c>).
    /// </summary>
    public static ErrorTranslation OpenAIToAnthropic(int upstreamStatus, ReadOnlyMemory<byte> openAIBody, IBufferWriter<byte> destination)
    {
        ReadError(openAIBody, null, out _, out var message);
        var kind = FindByOpenAIStatus(upstreamStatus);
        var status = kind?.AnthropicStatus ?? upstreamStatus;
        var anthropicType = kind?.AnthropicType ?? (upstreamStatus >= 500 ? "api_error" : "invalid_request_error");
        WriteAnthropicBody(destination, anthropicType, message ?? $"The upstream provider returned HTTP {upstreamStatus}.");
        return new ErrorTranslation(status, status is 429 or 529);
    }

    /// <summary>
    /// Rewrites an Anthropic error body for an Anthropic client, keeping only <c>error.type</c> and
    /// <c>error.message</c>; an unparseable body gets the type its status implies and a generic message.
    /// </summary>
    public static void AnthropicToAnthropic(int upstreamStatus, ReadOnlyMemory<byte> anthropicBody, IBufferWriter<byte> destination)
    {
        ReadError(anthropicBody, "error", out var type, out var message);
        // An unknown type is kept: Anthropic adds types, and its clients know them before we do.
        type ??= FindByAnthropicStatus(upstreamStatus)?.AnthropicType ?? (upstreamStatus >= 500 ? "api_error" : "invalid_request_error");
        WriteAnthropicBody(destination, type, message ?? $"The upstream provider returned HTTP {upstreamStatus}.");
    }

    /// <summary>The OpenAI error type for an Anthropic error type met mid-stream, where there is no status.</summary>
    public static string OpenAITypeForAnthropicType(string? anthropicType) =>
        FindByAnthropicType(anthropicType)?.OpenAIType ?? "server_error";

    /// <summary>The Anthropic error type for an OpenAI error met mid-stream, judged by its type and code.</summary>
    public static string AnthropicTypeForOpenAIError(string? openAIType, string? code)
    {
        // Gateways often forward the provider's own type as code; prefer it when we know it.
        if (FindByAnthropicType(code) is { } byCode)
        {
            return byCode.AnthropicType;
        }

        return openAIType switch
        {
            "invalid_request_error" => "invalid_request_error",
            "authentication_error" => "authentication_error",
            "permission_error" => "permission_error",
            "not_found_error" => "not_found_error",
            "rate_limit_error" or "requests" or "tokens" => "rate_limit_error",
            _ => "api_error",
        };
    }

    public static string OpenAITypeForStatus(int status) =>
        FindByOpenAIStatus(status)?.OpenAIType ?? (status >= 500 ? "server_error" : "invalid_request_error");

    public static string AnthropicTypeForStatus(int status) =>
        FindByOpenAIStatus(status)?.AnthropicType ?? (status >= 500 ? "api_error" : "invalid_request_error");

    public static void WriteOpenAIBody(IBufferWriter<byte> destination, string message, string type, string? param, string? code)
    {
        using var writer = new Utf8JsonWriter(destination, TranslationJson.WriterOptions);
        WriteOpenAIBody(writer, message, type, param, code);
    }

    public static void WriteOpenAIBody(Utf8JsonWriter writer, string message, string type, string? param, string? code)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("error"u8);
        writer.WriteString("message"u8, message);
        writer.WriteString("type"u8, type);
        writer.WriteString("param"u8, param);
        writer.WriteString("code"u8, code);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>An Anthropic error body for a gateway-made error of <paramref name="status"/>; the type follows the status.</summary>
    public static byte[] SerializeAnthropic(int status, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        WriteAnthropicBody(buffer, AnthropicTypeForStatus(status), message);
        return buffer.WrittenSpan.ToArray();
    }

    public static void WriteAnthropicBody(IBufferWriter<byte> destination, string type, string message)
    {
        using var writer = new Utf8JsonWriter(destination, TranslationJson.WriterOptions);
        WriteAnthropicBody(writer, type, message);
    }

    public static void WriteAnthropicBody(Utf8JsonWriter writer, string type, string message)
    {
        writer.WriteStartObject();
        writer.WriteString("type"u8, "error"u8);
        writer.WriteStartObject("error"u8);
        writer.WriteString("type"u8, type);
        writer.WriteString("message"u8, message);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Reads <c>error.type</c> and <c>error.message</c>; the wrapper's <c>type</c> must match <paramref name="wrapperType"/> when given.</summary>
    private static void ReadError(ReadOnlyMemory<byte> body, string? wrapperType, out string? type, out string? message)
    {
        type = null;
        message = null;
        if (!TranslationJson.TryParse(body, out var document))
        {
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || (wrapperType is not null && !(root.TryGetValue("type", out var wrapper) && wrapper.ValueKind == JsonValueKind.String && wrapper.ValueEquals(wrapperType)))
                || !root.TryGetValue("error", out var error) || error.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            if (error.TryGetValue("type", out var typeElement) && typeElement.ValueKind == JsonValueKind.String)
            {
                type = typeElement.GetString();
            }

            if (error.TryGetValue("message", out var messageElement) && messageElement.ValueKind == JsonValueKind.String)
            {
                message = messageElement.GetString();
            }
        }
    }

    private static ErrorKind? FindByAnthropicType(string? type) => type is null ? null : Array.Find(s_kinds, k => k.AnthropicType == type);

    private static ErrorKind? FindByAnthropicStatus(int status) => Array.Find(s_kinds, k => k.AnthropicStatus == status);

    private static ErrorKind? FindByOpenAIStatus(int status) => Array.Find(s_kinds, k => k.OpenAIStatus == status);

    private sealed record ErrorKind(string AnthropicType, int AnthropicStatus, int OpenAIStatus, string OpenAIType);
}
