using System.Text;
using System.Text.Json;

namespace FakeUpstream;

/// <summary>OpenAI-shaped error bodies.</summary>
internal static class Errors
{
    public static Task WriteAsync(HttpResponse response, int status, string code, string message)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        var body = Encoding.UTF8.GetBytes(
            $"{{\"error\":{{\"message\":\"{JsonEncodedText.Encode(message)}\",\"type\":\"{code}\",\"param\":null,\"code\":\"{code}\"}}}}");
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body).AsTask();
    }
}
