using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using AiGateway.Pipeline;
using AiGateway.Protocol;
using AiGateway.Protocol.Sse;

namespace AiGateway.Transforms;

/// <summary>
/// Relays a successful upstream response to the client while reading its usage: JSON bodies are copied
/// chunk by chunk through a streaming usage scanner; SSE streams are parsed event by event, flushed
/// after every upstream read, and the usage chunk the gateway asked for on the client's behalf is
/// removed. Nothing is buffered whole.
/// </summary>
internal static class ResponseRelay
{
    private static ReadOnlySpan<byte> DataPrefix => "data: "u8;
    private static ReadOnlySpan<byte> Done => "[DONE]"u8;

    /// <summary>
    /// Whether the upstream body is an event stream, read from the raw <c>Content-Type</c> (its media type, before any
    /// parameter): <see cref="System.Net.Http.Headers.HttpContentHeaders.ContentType"/> would parse it into an object on every response.
    /// </summary>
    public static bool IsEventStream(HttpContent content)
    {
        if (!content.Headers.NonValidated.TryGetValues("Content-Type", out var values) || values.Count != 1) return false;
        var mediaType = values.ToString().AsSpan();
        var parameters = mediaType.IndexOf(';');
        if (parameters >= 0) mediaType = mediaType[..parameters];
        return mediaType.Trim().Equals("text/event-stream", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Copies a JSON (or any non-SSE) body to the client and records its usage.</summary>
    public static async Task RelayJsonAsync(Stream upstream, HttpResponse response, AiRequest request, CancellationToken ct)
    {
        using var scanner = new JsonUsageScanner();
        var writer = response.BodyWriter;
        var restorer = request.ResponseFilter is { Restores: true } filter ? filter.CreateRestorer() : null;
        if (restorer is not null)
        {
            // Restored values change the length.
            response.Headers.ContentLength = null;
        }
        // Read straight into one pooled buffer: a JSON answer is usually one read, and a pipe reader per
        // response (reader, segments, its own pooled buffer) cost more than the copy it organizes.
        var buffer = ArrayPool<byte>.Shared.Rent(RelayBufferBytes);
        try
        {
            int read;
            while ((read = await upstream.ReadAsync(buffer, ct)) > 0)
            {
                var chunk = buffer.AsSpan(0, read);
                if (restorer is null) writer.Write(chunk);
                else restorer.Write(chunk, writer);
                scanner.Feed(chunk);
                // Flushed per upstream read, as it arrives: the client has its answer before the gateway's bookkeeping runs.
                await writer.FlushAsync(ct);
            }
            if (restorer is not null)
            {
                restorer.Complete(writer);
                await writer.FlushAsync(ct);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        if (scanner.Usage is { } usage) request.Usage = usage;
    }

    private const int RelayBufferBytes = 16 * 1024;

    /// <summary>
    /// Relays an OpenAI SSE stream. Returns normally when the upstream ends; an upstream failure after
    /// the first byte ends the stream with an OpenAI error event instead of a hang or a cut connection.
    /// </summary>
    public static async Task RelaySseAsync(Stream upstream, HttpResponse response, AiRequest request, CancellationToken ct)
    {
        var clientWantsUsage = request.Scanned.IncludeUsage;
        var text = new StringBuilder();
        var filter = request.ResponseFilter is { OutputRules.Length: > 0 } f ? f : null;
        var restorer = request.ResponseFilter is { Restores: true } r ? r.CreateStreamRestorer() : null;
        var checkedUpTo = 0;
        using var parser = new SseParser();
        var reader = PipeReader.Create(upstream, new StreamPipeReaderOptions(leaveOpen: true));
        var writer = response.BodyWriter;
        // Events are rewritten (the injected usage chunk dropped, values restored, an error event added), so an
        // upstream that sent its stream with Content-Length must not have that length reach the client.
        response.Headers.ContentLength = null;
        try
        {
            while (true)
            {
                ReadResult result;
                try
                {
                    result = await reader.ReadAsync(ct);
                }
                catch (Exception e) when (e is IOException or HttpRequestException && !ct.IsCancellationRequested)
                {
                    WriteError(writer, "The upstream stream broke off before it was complete.", "upstream_stream_error");
                    await writer.FlushAsync(ct);
                    break;
                }

                var buffer = result.Buffer;
                var stopped = false;
                while (parser.TryReadEvent(ref buffer, out var sseEvent))
                {
                    var data = sseEvent.Data.Span;
                    if (!data.SequenceEqual(Done))
                    {
                        var chunk = UsageReader.InspectChunk(data, text);
                        if (chunk.Usage is { } usage)
                        {
                            request.Usage = usage;
                            if (chunk.IsUsageOnly && !clientWantsUsage) continue;
                        }
                        if (filter?.CheckOutput(text, ref checkedUpTo) is { } rule)
                        {
                            // The offending delta is not sent; the client gets an error event naming the rule, then the end of the stream.
                            WriteError(writer, $"The answer was stopped by the gateway's content policy (rule '{rule.Name}').", PromptTransforms.PromptTransformsMiddleware.PolicyViolation);
                            stopped = true;
                            break;
                        }
                        if (restorer?.Rewrite(data) is { } restored)
                        {
                            WriteEvent(writer, sseEvent.EventType.Span, restored);
                            request.Telemetry?.MarkFirstEvent();
                            continue;
                        }
                    }
                    WriteEvent(writer, sseEvent.EventType.Span, data);
                    request.Telemetry?.MarkFirstEvent();
                }
                reader.AdvanceTo(result.Buffer.End);
                await writer.FlushAsync(ct);
                if (result.IsCompleted || stopped) break;
            }
        }
        finally
        {
            await reader.CompleteAsync();
            if (request.Usage is null) request.StreamedText = text.ToString();
        }
    }

    private static void WriteEvent(PipeWriter writer, ReadOnlySpan<byte> eventType, ReadOnlySpan<byte> data) =>
        SseWriter.WriteEvent(writer, eventType.SequenceEqual("message"u8) ? ReadOnlySpan<byte>.Empty : eventType, data);

    /// <summary>An OpenAI-style error event: the way a stream reports failure once its status line is gone.</summary>
    public static void WriteError(IBufferWriter<byte> writer, string message, string code)
    {
        writer.Write(DataPrefix);
        using (var json = new System.Text.Json.Utf8JsonWriter(writer, OpenAiError.WriterOptions))
        {
            OpenAiError.Write(json, message, OpenAiError.Server, null, code);
        }
        writer.Write("\n\n"u8);
    }
}
