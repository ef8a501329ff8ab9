namespace FakeUpstream;

/// <summary>Mutable server state: the current default shape and counters for /fake/stats.</summary>
internal sealed class UpstreamState(ResponseShape shape, string? requiredKey)
{
    private readonly string? _expectedAuthorization = string.IsNullOrEmpty(requiredKey) ? null : "Bearer " + requiredKey;
    private long _chat;
    private long _streams;
    private long _embeddings;
    private long _unauthorized;
    private long _includeUsage;

    public ResponseShape Shape { get; set; } = shape;

    /// <summary>Upstream model name of the most recent request, to check a proxy's model rewrite.</summary>
    public string LastModel { get; set; } = "";

    public long Chat => Interlocked.Read(ref _chat);
    public long Streams => Interlocked.Read(ref _streams);
    public long Embeddings => Interlocked.Read(ref _embeddings);
    public long Unauthorized => Interlocked.Read(ref _unauthorized);
    public long IncludeUsage => Interlocked.Read(ref _includeUsage);

    public void CountChat(bool stream, bool includeUsage)
    {
        Interlocked.Increment(ref stream ? ref _streams : ref _chat);
        if (includeUsage)
        {
            Interlocked.Increment(ref _includeUsage);
        }
    }

    public void CountEmbeddings() => Interlocked.Increment(ref _embeddings);

    /// <summary>True when no key is required or the request carries exactly <c>Bearer FAKE_UPSTREAM_KEY</c>.</summary>
    public bool Authorize(HttpRequest request)
    {
        if (_expectedAuthorization is null || request.Headers.Authorization == _expectedAuthorization)
        {
            return true;
        }

        Interlocked.Increment(ref _unauthorized);
        return false;
    }
}
