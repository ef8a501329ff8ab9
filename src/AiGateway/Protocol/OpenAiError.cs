using System.Text.Encodings.Web;
using System.Text.Json;

namespace AiGateway.Protocol;

/// <summary>
/// The single writer of OpenAI-shaped errors: <c>{"error":{"message","type","param","code"}}</c>.
/// Everything under <c>/v1</c> that fails before or instead of an upstream answer goes through here.
/// On the Anthropic surface (<see cref="ApiSurface.Anthropic"/>) the same error is written in
/// Anthropic's shape, <c>{"type":"error","error":{"type","message"}}</c>, because that is what
/// Anthropic SDKs parse; the status stays the same.
/// </summary>
internal static class OpenAiError
{
    public const string InvalidRequest = "invalid_request_error";
    public const string Authentication = "authentication_error";
    public const string Permission = "permission_error";
    public const string NotFound = "not_found_error";
    public const string RateLimit = "rate_limit_error";
    public const string Server = "server_error";
    public const string Timeout = "timeout_error";

    /// <summary>Writer options for API JSON: UTF-8 text and quotes unescaped, as OpenAI writes them.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Longest piece of client input echoed back in an error message.</summary>
    private const int MaxEcho = 128;

    public static Task WriteAsync(HttpContext context, int status, string message, string type, string? param = null, string? code = null)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            // Too late for a status line; the caller decides how to end the stream.
            return Task.CompletedTask;
        }

        response.StatusCode = status;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        var bytes = ApiSurfaces.Of(context) == ApiSurface.Anthropic
            ? Providers.Anthropic.ErrorTranslator.SerializeAnthropic(status, message)
            : Serialize(message, type, param, code);
        response.ContentLength = bytes.Length;
        return response.Body.WriteAsync(bytes, context.RequestAborted).AsTask();
    }

    /// <summary>The error as a minimal-API result, for endpoints that return <see cref="IResult"/>.</summary>
    public static IResult Result(int status, string message, string type, string? param = null, string? code = null) =>
        new ErrorResult(status, message, type, param, code);

    public static byte[] Serialize(string message, string type, string? param, string? code)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(writer, message, type, param, code);
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(Utf8JsonWriter writer, string message, string type, string? param, string? code)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteString("message", message);
        writer.WriteString("type", type);
        if (param is null) writer.WriteNull("param"); else writer.WriteString("param", param);
        if (code is null) writer.WriteNull("code"); else writer.WriteString("code", code);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Client input quoted in an error message, cut short so an error never mirrors a huge payload.</summary>
    public static string Echo(string value) =>
        value.Length <= MaxEcho ? value : string.Concat(value.AsSpan(0, MaxEcho), "…");

    public static string TypeForStatus(int status) => status switch
    {
        401 => Authentication,
        403 => Permission,
        404 => NotFound,
        429 => RateLimit,
        504 => Timeout,
        >= 500 => Server,
        _ => InvalidRequest,
    };

    private sealed record ErrorResult(int Status, string Message, string Type, string? Param, string? Code) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext, Status, Message, Type, Param, Code);
    }
}
