using Microsoft.AspNetCore.Http.Features;

namespace AiGateway.Pipeline;

/// <summary>Reads a request body once into memory, refusing anything over the configured limit.</summary>
internal static class RequestBody
{
    /// <returns>The body, or <c>null</c> when it is larger than <paramref name="limit"/>.</returns>
    public static async ValueTask<ReadOnlyMemory<byte>?> ReadAsync(HttpContext context, long limit)
    {
        var request = context.Request;
        if (request.ContentLength is { } declared && declared > limit)
        {
            return null;
        }

        // The gateway enforces its own (hot-reloadable) limit; Kestrel's fixed default must not cut in first.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = limit + 1;
        }

        var buffer = new byte[request.ContentLength is { } length ? (int)length : 4096];
        var total = 0;
        var body = request.Body;
        var ct = context.RequestAborted;
        while (true)
        {
            if (total == buffer.Length)
            {
                if (request.ContentLength is not null)
                {
                    // Kestrel's framing delivers exactly the declared length, so the body is complete.
                    break;
                }
                if (buffer.Length > limit) return null;
                Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, limit + 1));
            }
            var read = await body.ReadAsync(buffer.AsMemory(total), ct);
            if (read == 0) break;
            total += read;
            if (total > limit) return null;
        }
        return buffer.AsMemory(0, total);
    }
}
