using System.Globalization;
using AiGateway.Pipeline;
using AiGateway.Protocol;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Net.Http.Headers;

namespace AiGateway.Caching;

/// <summary>
/// The response-cache step, after admission: a hit is written (or replayed as SSE) here and the request
/// goes no further; a miss goes on to the provider while the answer is copied into the cache on its way
/// to the client. Concurrent identical misses wait for the first one's answer instead of calling the
/// provider each (HybridCache's stampede protection, with the first request's own upstream call as the
/// factory). A cache failure never fails the request: it becomes a miss.
/// </summary>
internal sealed class ResponseCacheMiddleware(
    RequestDelegate next,
    ResponseCacheStore store,
    CacheMetrics metrics,
    TimeProvider time,
    ILogger<ResponseCacheMiddleware> logger)
{
    public const string StatusHeader = "x-gateway-cache";
    public const string KeyHeader = "x-gateway-cache-key";
    public const string TtlHeader = "x-gateway-cache-ttl";

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.GetAiRequest()!;
        // Not async here: a model without a cache passes through without a state machine of its own.
        return request.Model.Cache is { } policy && request.Operation is AiOperation.ChatCompletions or AiOperation.Completions or AiOperation.Embeddings
            ? CachedAsync(context, request, policy)
            : next(context);
    }

    private async Task CachedAsync(HttpContext context, AiRequest request, ModelCachePolicy policy)
    {

        var directives = CacheDirectives.Read(context.Request.Headers, policy.Ttl, request.Config.Cache.MaxTtl);
        if (directives.Error is { } error)
        {
            await OpenAiError.WriteAsync(context, 400, error, OpenAiError.InvalidRequest, null, "invalid_value");
            return;
        }

        var partition = CacheKey.Partition(policy.Scope, request.Caller.CacheIdentity, request.Caller.Team);
        if ((directives.NoCache && directives.NoStore)
            || !CacheKey.TryRead(request.Body, request.Operation, partition, request.Model.Name, out var cacheable)
            || cacheable.WantsLogprobs
            || (policy.DeterministicOnly && !cacheable.Deterministic))
        {
            await ForwardAsync(context, request, "BYPASS", key: null, storeTtl: null);
            return;
        }

        var key = cacheable.Key;
        var options = store.EntryOptions(directives.Ttl);
        string[] tags = [ResponseCacheStore.ModelTag(request.Model.Name)];
        var ct = context.RequestAborted;

        if (directives.NoCache)
        {
            await ForwardAsync(context, request, "REFRESH", key, directives.Ttl);
            return;
        }

        if (directives.NoStore)
        {
            var found = await LookupAsync(key, ct);
            if (found is not null) await ServeAsync(context, request, key, found);
            else await ForwardAsync(context, request, "MISS", key, storeTtl: null);
            return;
        }

        var leadership = new Leadership();
        ValueTask<CachedResponse> pending;
        try
        {
            pending = store.Cache.GetOrCreateAsync(key, leadership, Leadership.FactoryAsync, options, tags, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            CacheLog.LookupFailed(logger, e.GetType().Name);
            await ForwardAsync(context, request, "MISS", key, storeTtl: null);
            return;
        }

        if (pending.IsCompletedSuccessfully)
        {
            await ServeAsync(context, request, key, pending.Result);
            return;
        }

        var lookup = pending.AsTask();
        if (await Task.WhenAny(lookup, leadership.Elected) != lookup)
        {
            // This request's own upstream call is the factory every identical request waits on.
            // The lookup completes once the cache holds this request's answer (or gave up on it): a finished store.
            _ = lookup.ContinueWith(static (t, state) =>
            {
                _ = t.Exception;
                ((ResponseCacheStore)state!).WriteFinished();
            }, store, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            CachedResponse? entry = null;
            try
            {
                entry = await ForwardCapturingAsync(context, request, "MISS", key);
            }
            finally
            {
                leadership.Complete(entry);
            }
            return;
        }

        CachedResponse hit;
        try
        {
            hit = await lookup;
        }
        catch (UncacheableAnswerException)
        {
            // The request it waited on got an answer that could not be stored; ask the provider itself.
            await ForwardAsync(context, request, "MISS", key, directives.Ttl);
            return;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            CacheLog.LookupFailed(logger, e.GetType().Name);
            await ForwardAsync(context, request, "MISS", key, storeTtl: null);
            return;
        }
        await ServeAsync(context, request, key, hit);
    }

    private async ValueTask<CachedResponse?> LookupAsync(string key, CancellationToken ct)
    {
        try
        {
            var found = await store.Cache.GetOrCreateAsync<CachedResponse?>(key, static _ => default, store.EntryOptions(TimeSpan.FromSeconds(1), HybridCacheEntryFlags.DisableUnderlyingData), cancellationToken: ct);
            return found;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            CacheLog.LookupFailed(logger, e.GetType().Name);
            return null;
        }
    }

    /// <summary>
    /// A hit: the request counts toward request-rate limits (admission already reserved it) but settles
    /// zero tokens, and its usage is recorded as cached prompt tokens from <see cref="UsageSource.Cache"/>.
    /// </summary>
    private Task ServeAsync(HttpContext context, AiRequest request, string key, CachedResponse entry)
    {
        metrics.Request("hit", request.Operation);
        metrics.ServedTokens(request.Operation, (long)entry.PromptTokens + entry.CompletionTokens);
        request.Usage = new TokenUsage(entry.PromptTokens, entry.CompletionTokens, entry.PromptTokens, UsageSource.Cache);
        var headers = context.Response.Headers;
        headers[StatusHeader] = "HIT";
        headers[KeyHeader] = key;
        var age = time.GetUtcNow().ToUnixTimeSeconds() - entry.StoredAtUnixSeconds;
        headers.Age = Math.Max(0, age).ToString(CultureInfo.InvariantCulture);
        return request.Scanned.Stream && request.Operation != AiOperation.Embeddings
            ? CacheReplay.WriteStreamAsync(context.Response, entry, request.Scanned.IncludeUsage, context.RequestAborted)
            : CacheReplay.WriteJsonAsync(context.Response, entry, context.RequestAborted);
    }

    /// <summary>Forwards the request; with <paramref name="storeTtl"/>, stores the answer in the background.</summary>
    private async Task ForwardAsync(HttpContext context, AiRequest request, string status, string? key, TimeSpan? storeTtl)
    {
        if (storeTtl is not { } ttl)
        {
            metrics.Request(status.ToLowerInvariant(), request.Operation);
            SetHeaders(context, status, key);
            await next(context);
            return;
        }

        var entry = await ForwardCapturingAsync(context, request, status, key!);
        if (entry is not null)
        {
            // Not awaited: the answer has reached the client and a slow Redis must not hold the request open.
            _ = StoreAsync(key!, entry, store.EntryOptions(ttl), [ResponseCacheStore.ModelTag(request.Model.Name)]);
        }
    }

    private async Task StoreAsync(string key, CachedResponse entry, HybridCacheEntryOptions options, string[] tags)
    {
        try
        {
            await store.Cache.SetAsync(key, entry, options, tags, CancellationToken.None);
        }
        catch (Exception e)
        {
            CacheLog.StoreFailed(logger, e.GetType().Name);
        }
        finally
        {
            store.WriteFinished();
        }
    }

    /// <summary>Forwards the request with the response copied on its way out; returns the entry to store, if the answer qualifies.</summary>
    private async Task<CachedResponse?> ForwardCapturingAsync(HttpContext context, AiRequest request, string status, string key)
    {
        metrics.Request(status.ToLowerInvariant(), request.Operation);
        SetHeaders(context, status, key);
        var original = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        using var builder = new CacheEntryBuilder(context.Response, request.Operation, request.Config.Cache.MaxEntryBytes);
        context.Features.Set<IHttpResponseBodyFeature>(new ResponseCapture(original, builder));
        try
        {
            await next(context);
        }
        finally
        {
            context.Features.Set(original);
        }

        if (context.RequestAborted.IsCancellationRequested)
        {
            metrics.Rejected("incomplete");
            return null;
        }
        var entry = builder.Build(request.Usage, time.GetUtcNow().ToUnixTimeSeconds());
        if (entry is null)
        {
            metrics.Rejected(builder.Rejection ?? "format");
            return null;
        }
        metrics.Stored(request.Operation);
        return entry;
    }

    private static void SetHeaders(HttpContext context, string status, string? key)
    {
        var headers = context.Response.Headers;
        headers[StatusHeader] = status;
        if (key is not null) headers[KeyHeader] = key;
    }

    /// <summary>
    /// Lets a request find out whether HybridCache chose it to produce the entry: the factory runs only
    /// for the first of a set of concurrent identical lookups, and waits for that request's answer.
    /// </summary>
    private sealed class Leadership
    {
        private readonly TaskCompletionSource _elected = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<CachedResponse?> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Elected => _elected.Task;

        public static async ValueTask<CachedResponse> FactoryAsync(Leadership leadership, CancellationToken ct)
        {
            leadership._elected.TrySetResult();
            var entry = await leadership._answer.Task.WaitAsync(ct).ConfigureAwait(false);
            // Throwing keeps HybridCache from storing anything and tells the waiters to ask the provider themselves.
            return entry ?? throw new UncacheableAnswerException();
        }

        public void Complete(CachedResponse? entry) => _answer.TrySetResult(entry);
    }
}

/// <summary>The answer a set of identical requests waited on cannot be cached (an error, a tool call, a broken stream).</summary>
internal sealed class UncacheableAnswerException() : Exception("The answer could not be cached.");

/// <summary>The cache directives of a request's headers.</summary>
internal readonly record struct CacheDirectives(bool NoCache, bool NoStore, TimeSpan Ttl, string? Error)
{
    public static CacheDirectives Read(IHeaderDictionary headers, TimeSpan defaultTtl, TimeSpan maxTtl)
    {
        bool noCache = false, noStore = false;
        if (CacheControlHeaderValue.TryParse(headers.CacheControl.ToString(), out var cacheControl))
        {
            noCache = cacheControl.NoCache;
            noStore = cacheControl.NoStore;
        }
        var ttl = defaultTtl;
        var requested = headers[ResponseCacheMiddleware.TtlHeader];
        if (requested.Count > 0)
        {
            var max = (long)maxTtl.TotalSeconds;
            if (requested.Count > 1 || !long.TryParse(requested[0], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds < 1 || seconds > max)
            {
                return new CacheDirectives(noCache, noStore, ttl, $"The {ResponseCacheMiddleware.TtlHeader} header must be a whole number of seconds from 1 to {max}.");
            }
            ttl = TimeSpan.FromSeconds(seconds);
        }
        return new CacheDirectives(noCache, noStore, ttl, null);
    }
}
