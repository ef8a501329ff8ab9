using System.Buffers;
using System.IO.Pipelines;
using AiGateway.Pipeline;
using AiGateway.Protocol.Sse;

namespace AiGateway.Providers.Anthropic;

/// <summary>
/// Relays a successful upstream response through a translator. Streams go event by event and are
/// flushed after every upstream read; a JSON answer is one document, so it is read whole (bounded)
/// and translated once. Usage lands on <see cref="AiRequest.Usage"/>.
/// </summary>
internal static class TranslatingRelay
{
    /// <summary>Largest non-streamed upstream body translated; a chat answer is far smaller.</summary>
    public const int MaxJsonBody = 16 * 1024 * 1024;

    /// <summary>Translates one JSON document into the client's dialect.</summary>
    public delegate bool JsonTranslation(ReadOnlyMemory<byte> upstream, IBufferWriter<byte> client, out TranslatedUsage usage, out TranslationError? error);

    /// <summary>
    /// Reads the upstream JSON, translates it and writes it with its own length. The upstream's
    /// headers were already copied, so its <c>Content-Length</c> is replaced. An upstream answer that
    /// cannot be translated becomes a 502 in the client's error shape.
    /// </summary>
    public static async Task RelayJsonAsync(Stream upstream, HttpResponse response, AiRequest request, JsonTranslation translate, CancellationToken ct)
    {
        var body = await ReadBoundedAsync(upstream, ct);
        var client = new ArrayBufferWriter<byte>(body is null ? 256 : body.Value.Length + 256);
        TranslationError? error;
        if (body is null)
        {
            error = TranslationError.BadUpstream("The upstream response is too large to translate.");
        }
        else if (translate(body.Value, client, out var usage, out error) && usage != default)
        {
            request.Usage = usage.ToTokenUsage();
        }

        if (error is not null)
        {
            client.ResetWrittenCount();
            response.StatusCode = error.StatusCode;
            if (Protocol.ApiSurfaces.Of(response.HttpContext) == Protocol.ApiSurface.Anthropic) error.WriteAnthropic(client); else error.WriteOpenAI(client);
        }

        await WriteJsonAsync(response, client.WrittenMemory, ct);
    }

    /// <summary>Writes a complete JSON body over headers copied from the upstream.</summary>
    public static async Task WriteJsonAsync(HttpResponse response, ReadOnlyMemory<byte> json, CancellationToken ct)
    {
        response.Headers.ContentLength = json.Length;
        response.ContentType = "application/json";
        await response.Body.WriteAsync(json, ct);
    }

    /// <summary>
    /// Relays an SSE stream through <paramref name="translator"/>. An upstream that breaks off or goes
    /// silent (<paramref name="ct"/> is the relay's idle timeout) ends the client's stream with the
    /// translator's error event; a client that goes away ends it without one.
    /// </summary>
    public static async Task RelayStreamAsync(Stream upstream, HttpResponse response, AiRequest request, IStreamTranslator translator, CancellationToken ct)
    {
        var clientGone = response.HttpContext.RequestAborted;
        response.Headers.ContentLength = null;
        using var parser = new SseParser();
        var reader = PipeReader.Create(upstream, new StreamPipeReaderOptions(leaveOpen: true));
        var writer = response.BodyWriter;
        try
        {
            while (!translator.IsCompleted)
            {
                ReadResult result;
                try
                {
                    result = await reader.ReadAsync(ct);
                }
                catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException && !clientGone.IsCancellationRequested)
                {
                    break;
                }

                var buffer = result.Buffer;
                try
                {
                    while (parser.TryReadEvent(ref buffer, out var sseEvent))
                    {
                        translator.TranslateEvent(sseEvent.EventType.Span, sseEvent.Data, writer);
                        request.Telemetry?.MarkFirstEvent();
                    }
                }
                catch (InvalidDataException)
                {
                    // An event over the parser's cap: the rest of the stream cannot be trusted.
                    reader.AdvanceTo(result.Buffer.End);
                    break;
                }

                reader.AdvanceTo(result.Buffer.End);
                await writer.FlushAsync(clientGone);
                if (result.IsCompleted) break;
            }

            translator.Complete(writer);
            await writer.FlushAsync(clientGone);
        }
        finally
        {
            await reader.CompleteAsync();
            // Also after an abort: the best usage seen so far is still worth settling.
            if (translator.Usage != default) request.Usage = translator.Usage.ToTokenUsage();
        }
    }

    private static async Task<ReadOnlyMemory<byte>?> ReadBoundedAsync(Stream upstream, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        while (true)
        {
            var read = await upstream.ReadAsync(buffer.GetMemory(8 * 1024), ct);
            if (read == 0) return buffer.WrittenMemory;
            buffer.Advance(read);
            if (buffer.WrittenCount > MaxJsonBody) return null;
        }
    }
}
