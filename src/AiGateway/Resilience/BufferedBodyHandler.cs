using System.Net;

namespace AiGateway.Resilience;

/// <summary>
/// Sends a request body the gateway already holds in memory in the same write as the request headers.
/// YARP's own request content streams the client's body and flushes the headers before it, so every upstream
/// request took two socket writes, and the upstream woke twice to read it. The gateway has read, checked and often
/// rewritten the whole body before it forwards, so that flush buys nothing: the request transform hands the body over
/// in <see cref="Key"/>, and this handler swaps YARP's content for one over that memory. HttpClient then copies the
/// body into its write buffer behind the headers and sends both at once (bodies larger than that buffer still go in
/// two writes: HttpClient's buffer is 4 KB). YARP never starts its own content, so it awaits no body copy.
/// </summary>
internal sealed class BufferedBodyHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public static readonly HttpRequestOptionsKey<ReadOnlyMemory<byte>> Key = new("aigw.upstreamBody");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is { } streamed && request.Options.TryGetValue(Key, out var body))
        {
            request.Content = WithHeadersOf(streamed, body);
        }
        return base.SendAsync(request, cancellationToken);
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is { } streamed && request.Options.TryGetValue(Key, out var body))
        {
            request.Content = WithHeadersOf(streamed, body);
        }
        return base.Send(request, cancellationToken);
    }

    private static BufferedContent WithHeadersOf(HttpContent streamed, ReadOnlyMemory<byte> body)
    {
        var content = new BufferedContent(body);
        foreach (var header in streamed.Headers.NonValidated)
        {
            // A single value as a string: the enumerable overload boxes an enumerator per header.
            var values = header.Value;
            if (values.Count == 1) content.Headers.TryAddWithoutValidation(header.Key, values.ToString());
            else content.Headers.TryAddWithoutValidation(header.Key, values);
        }
        // The client's Content-Length was set to this body's length; a transform that removed it still gets a length, not chunking.
        content.Headers.ContentLength = body.Length;
        return content;
    }

    /// <summary>A body in memory, written in one call and never flushed on its own.</summary>
    internal sealed class BufferedContent(ReadOnlyMemory<byte> body) : HttpContent
    {
        public ReadOnlyMemory<byte> Body => body;

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            stream.WriteAsync(body).AsTask();

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            stream.WriteAsync(body, cancellationToken).AsTask();

        protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            stream.Write(body.Span);

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }

        protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new Pipeline.MemoryStreamSlice(body));
    }
}
