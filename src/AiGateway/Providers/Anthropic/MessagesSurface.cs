using System.Buffers;
using AiGateway.Pipeline;
using AiGateway.Protocol;
using AiGateway.Transforms;

namespace AiGateway.Providers.Anthropic;

/// <summary>
/// The gateway's Anthropic surface (<c>POST /v1/messages</c>) served by an OpenAI-compatible
/// deployment: the request becomes a chat completion, and the answer, stream and errors come back in
/// Anthropic's shapes. Anthropic deployments do not come here: they pass through (<see cref="AnthropicAdapter"/>).
/// </summary>
internal static class MessagesSurface
{
    /// <summary>The chat completions body for the deployment, or the 400 to answer in Anthropic's shape.</summary>
    public static bool TryPrepareChatBody(AiRequest request, out ReadOnlyMemory<byte> body, out ClientError? error)
    {
        var buffer = new ArrayBufferWriter<byte>(request.Body.Length + 256);
        if (ChatRequestTranslator.TryTranslate(request.Body, request.Deployment!.UpstreamModel, buffer, out _, out var translationError))
        {
            error = null;
            body = buffer.WrittenMemory;
            return true;
        }

        error = new ClientError(translationError.StatusCode, translationError.Message, translationError.Param, translationError.Code);
        body = default;
        return false;
    }

    public static Task RelayAsync(HttpResponseMessage upstream, Stream body, HttpResponse response, AiRequest request, CancellationToken ct)
    {
        var publicModel = request.Model.Name;
        return ResponseRelay.IsEventStream(upstream.Content)
            ? TranslatingRelay.RelayStreamAsync(body, response, request, new ChatStreamTranslator(publicModel), ct)
            : TranslatingRelay.RelayJsonAsync(body, response, request,
                (ReadOnlyMemory<byte> upstreamBody, IBufferWriter<byte> client, out TranslatedUsage usage, out TranslationError? error) =>
                    ChatResponseTranslator.TryTranslate(upstreamBody, publicModel, client, out usage, out error),
                ct);
    }

    /// <summary>An OpenAI-shaped error (already normalized by the gateway) in Anthropic's shape and status (503 → 529).</summary>
    public static (int Status, byte[] Body) MapError(int status, byte[] openAIBody)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var mapped = ErrorTranslator.OpenAIToAnthropic(status, openAIBody, buffer);
        return (mapped.StatusCode, buffer.WrittenSpan.ToArray());
    }
}
