using System.Text.Json;
using AiGateway.Protocol;

namespace AiGateway.Transforms;

/// <summary>What the client sees when an OpenAI-compatible upstream answers with an error.</summary>
internal static class UpstreamErrors
{
    /// <summary>
    /// An OpenAI-shaped upstream error passes through as is. Anything else becomes a generic error. A
    /// provider's 401/403 means the gateway's own credential was refused: the client's key was fine, so
    /// it is reported as 502 and the provider's text (which may quote the key) is dropped.
    /// </summary>
    public static (int Status, byte[] Body) Normalize(int status, byte[]? body, string deployment, string? credential)
    {
        if (status is 401 or 403)
        {
            return (502, OpenAiError.Serialize($"The upstream deployment '{deployment}' rejected the gateway's provider credential.", OpenAiError.Server, null, "upstream_authentication_failed"));
        }

        if (body is not null && IsOpenAiError(body) && (credential is null || body.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(credential)) < 0))
        {
            return (status, body);
        }

        var code = status switch
        {
            429 => "rate_limit_exceeded",
            >= 500 => "upstream_error",
            _ => "upstream_rejected",
        };
        return (status, OpenAiError.Serialize($"The upstream deployment '{deployment}' answered with HTTP {status}.", OpenAiError.TypeForStatus(status), null, code));
    }

    private static bool IsOpenAiError(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("message", out var message)
                && message.ValueKind == JsonValueKind.String;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
