using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace FakeUpstream;

/// <summary><c>POST /v1/chat/completions</c>: precomputed bytes, one flush per SSE event.</summary>
internal static class ChatEndpoint
{
    private const int MaxCachedModels = 64;
    private static readonly ConcurrentDictionary<string, ChatBytes> Cache = new(StringComparer.Ordinal);

    public static async Task HandleAsync(HttpContext context, UpstreamState state)
    {
        var request = context.Request;
        var response = context.Response;
        var aborted = context.RequestAborted;
        if (!state.Authorize(request))
        {
            await Errors.WriteAsync(response, StatusCodes.Status401Unauthorized, "invalid_api_key", "Incorrect API key provided.");
            return;
        }

        var scan = await RequestScan.ReadAsync(request.BodyReader, aborted);
        if (scan is not { } body)
        {
            await Errors.WriteAsync(response, StatusCodes.Status400BadRequest, "invalid_request_error", "Body must be a JSON object.");
            return;
        }

        state.LastModel = body.Model;
        state.CountChat(body.Stream, body.IncludeUsage);
        var shape = state.Shape.Override(request);
        var bytes = For(body.Model);
        var promptTokens = Math.Max(1, body.BodyBytes / 4);
        try
        {
            if (body.Stream)
            {
                await StreamAsync(response, bytes, shape, body.IncludeUsage, promptTokens, aborted);
            }
            else
            {
                if (shape.LatencyMs > 0)
                {
                    await Task.Delay(shape.LatencyMs, aborted);
                }

                await WriteJsonAsync(response, bytes, promptTokens, aborted);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away; nothing left to answer.
        }
    }

    private static ChatBytes For(string model)
    {
        if (Cache.TryGetValue(model, out var bytes))
        {
            return bytes;
        }

        bytes = new ChatBytes(model);
        if (Cache.Count < MaxCachedModels)
        {
            Cache.TryAdd(model, bytes);
        }

        return bytes;
    }

    private static async Task WriteJsonAsync(HttpResponse response, ChatBytes bytes, long promptTokens, CancellationToken aborted)
    {
        response.ContentType = "application/json";
        var writer = response.BodyWriter;
        var length = bytes.Completion.Length + WriteUsage(writer, bytes.Completion, promptTokens, ChatBytes.CompletionTokens, "}\n"u8);
        response.ContentLength = length;
        await writer.FlushAsync(aborted);
    }

    private static async Task StreamAsync(
        HttpResponse response, ChatBytes bytes, ResponseShape shape, bool includeUsage, long promptTokens, CancellationToken aborted)
    {
        if (shape.TtfcMs > 0)
        {
            await Task.Delay(shape.TtfcMs, aborted);
        }

        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var writer = response.BodyWriter;
        await writer.WriteAsync(bytes.RoleChunk, aborted);
        for (var i = 0; i < shape.Chunks; i++)
        {
            await PauseAsync(shape, aborted);
            await writer.WriteAsync(bytes.ContentChunk, aborted);
        }

        await PauseAsync(shape, aborted);
        await writer.WriteAsync(bytes.FinishChunk, aborted);
        if (includeUsage)
        {
            await PauseAsync(shape, aborted);
            WriteUsage(writer, bytes.UsageChunk, promptTokens, shape.Chunks, "}\n\n"u8);
            await writer.FlushAsync(aborted);
        }

        await PauseAsync(shape, aborted);
        await writer.WriteAsync(ChatBytes.Done, aborted);
    }

    private static Task PauseAsync(ResponseShape shape, CancellationToken aborted) =>
        shape.DelayMs > 0 ? Task.Delay(shape.DelayMs, aborted) : Task.CompletedTask;

    /// <summary>Writes <paramref name="prefix"/> then the usage numbers; returns the bytes written after the prefix.</summary>
    private static int WriteUsage(PipeWriter writer, byte[] prefix, long promptTokens, long completionTokens, ReadOnlySpan<byte> end)
    {
        writer.Write(prefix);
        var span = writer.GetSpan(96);
        Utf8.TryWrite(
            span,
            CultureInfo.InvariantCulture,
            $"{promptTokens},\"completion_tokens\":{completionTokens},\"total_tokens\":{promptTokens + completionTokens}}}",
            out var written);
        end.CopyTo(span[written..]);
        written += end.Length;
        writer.Advance(written);
        return written;
    }

    /// <summary>Every fixed byte of a response for one model name.</summary>
    private sealed class ChatBytes
    {
        public const int CompletionTokens = 20;

        public static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

        public ChatBytes(string model)
        {
            var head = $"{{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"{JsonEncodedText.Encode(model)}\",";
            Completion = Encoding.UTF8.GetBytes(
                head.Replace("chat.completion.chunk", "chat.completion", StringComparison.Ordinal)
                + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\""
                + string.Concat(Enumerable.Repeat("tok ", CompletionTokens))
                + "\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":");
            RoleChunk = Event(head + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}");
            ContentChunk = Event(head + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"tok \"},\"finish_reason\":null}]}");
            FinishChunk = Event(head + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}");
            UsageChunk = Encoding.UTF8.GetBytes("data: " + head + "\"choices\":[],\"usage\":{\"prompt_tokens\":");
        }

        public byte[] Completion { get; }
        public byte[] RoleChunk { get; }
        public byte[] ContentChunk { get; }
        public byte[] FinishChunk { get; }
        public byte[] UsageChunk { get; }

        private static byte[] Event(string json) => Encoding.UTF8.GetBytes("data: " + json + "\n\n");
    }
}
