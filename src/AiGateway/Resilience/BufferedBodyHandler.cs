namespace AiGateway.Resilience;

/// <summary>
/// Sends a request body the gateway already holds in memory in the same write as the request headers.
/// YARP's own request content streams the client's body and flushes the headers before it, so every upstream
/// request took two socket writes, and the upstream woke twice to read it. The gateway has read, checked and often
/// rewritten the whole body before it forwards, so that flush buys nothing: the request transform hands the body over
/// in <see cref="Key"/>, and this handler swaps YARP's content for one over that memory. HttpClient then copies the
/// body into its write buffer behind the headers and sends both at once (requests larger than that buffer still go in
/// two writes: HttpClient's buffer is 4 KB). YARP never starts its own content, so it awaits no body copy.
/// </summary>
/// <remarks>
/// The memory must stay untouched until the exchange ends: over HTTP/2 the body may still be sending after the
/// response headers arrived. Gateway bodies are plain arrays, never pooled.
/// </remarks>
internal sealed class BufferedBodyHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    public static readonly HttpRequestOptionsKey<ReadOnlyMemory<byte>> Key = new("aigw.upstreamBody");

    /// <remarks>YARP forwards with <c>SendAsync</c> only; the synchronous path is left as it was.</remarks>
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is { } streamed && request.Options.TryGetValue(Key, out var body))
        {
            request.Content = WithHeadersOf(streamed, body);
        }
        return base.SendAsync(request, cancellationToken);
    }

    private static ReadOnlyMemoryContent WithHeadersOf(HttpContent streamed, ReadOnlyMemory<byte> body)
    {
        var content = new ReadOnlyMemoryContent(body);
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
}
