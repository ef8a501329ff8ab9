using System.Buffers;
using Microsoft.Extensions.Caching.Distributed;

namespace AiGateway.Caching;

/// <summary>
/// The Redis tier as the response cache sees it: every operation is bounded by a short timeout, and a
/// failure turns a read into a miss and drops a write instead of failing the request. After a failure
/// Redis is left alone for <see cref="BreakDuration"/>, so an outage costs one timeout, not one per
/// request. Failures are counted and logged at most once per <see cref="LogInterval"/>.
/// </summary>
internal sealed class ResilientDistributedCache : IBufferDistributedCache
{
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(30);

    private readonly IBufferDistributedCache _inner;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly CacheMetrics _metrics;
    private readonly ILogger _logger;
    private long _openUntilTicks;
    private long _lastLogTicks = long.MinValue;
    private int _failing;

    public ResilientDistributedCache(IBufferDistributedCache inner, TimeSpan timeout, TimeProvider time, CacheMetrics metrics, ILogger logger)
    {
        _inner = inner;
        _timeout = timeout;
        _time = time;
        _metrics = metrics;
        _logger = logger;
    }

    public async ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
    {
        if (!Available("get")) return false;
        try
        {
            var found = await _inner.TryGetAsync(key, destination, token).AsTask().WaitAsync(_timeout, token).ConfigureAwait(false);
            Succeeded();
            return found;
        }
        catch (Exception e) when (IsFailure(e, token))
        {
            Failed("get", e);
            return false;
        }
    }

    public async ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        if (!Available("set")) return;
        try
        {
            await _inner.SetAsync(key, value, options, token).AsTask().WaitAsync(_timeout, token).ConfigureAwait(false);
            Succeeded();
        }
        catch (Exception e) when (IsFailure(e, token))
        {
            Failed("set", e);
        }
    }

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        if (!Available("get")) return null;
        try
        {
            var value = await _inner.GetAsync(key, token).WaitAsync(_timeout, token).ConfigureAwait(false);
            Succeeded();
            return value;
        }
        catch (Exception e) when (IsFailure(e, token))
        {
            Failed("get", e);
            return null;
        }
    }

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        RunAsync("set", () => _inner.SetAsync(key, value, options, token), token);

    public Task RefreshAsync(string key, CancellationToken token = default) =>
        RunAsync("refresh", () => _inner.RefreshAsync(key, token), token);

    public Task RemoveAsync(string key, CancellationToken token = default) =>
        RunAsync("remove", () => _inner.RemoveAsync(key, token), token);

    // The synchronous members exist for the interface; HybridCache only calls the asynchronous ones.
    public bool TryGet(string key, IBufferWriter<byte> destination) => TryGetAsync(key, destination).AsTask().GetAwaiter().GetResult();

    public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).AsTask().GetAwaiter().GetResult();

    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    private async Task RunAsync(string operation, Func<Task> action, CancellationToken token)
    {
        if (!Available(operation)) return;
        try
        {
            await action().WaitAsync(_timeout, token).ConfigureAwait(false);
            Succeeded();
        }
        catch (Exception e) when (IsFailure(e, token))
        {
            Failed(operation, e);
        }
    }

    /// <summary>Everything but the caller's own cancellation is Redis's failure, not the request's.</summary>
    private static bool IsFailure(Exception e, CancellationToken token) => !(e is OperationCanceledException && token.IsCancellationRequested);

    private bool Available(string operation)
    {
        if (_time.GetUtcNow().UtcTicks < Volatile.Read(ref _openUntilTicks))
        {
            _metrics.DistributedFailed(operation, "unavailable");
            return false;
        }
        return true;
    }

    private void Succeeded()
    {
        if (Volatile.Read(ref _failing) != 0 && Interlocked.Exchange(ref _failing, 0) != 0)
        {
            CacheLog.DistributedRecovered(_logger);
        }
    }

    private void Failed(string operation, Exception e)
    {
        var now = _time.GetUtcNow().UtcTicks;
        Volatile.Write(ref _openUntilTicks, now + BreakDuration.Ticks);
        Volatile.Write(ref _failing, 1);
        _metrics.DistributedFailed(operation, e is TimeoutException ? "timeout" : "error");
        var last = Volatile.Read(ref _lastLogTicks);
        if ((last == long.MinValue || now - last >= LogInterval.Ticks) && Interlocked.CompareExchange(ref _lastLogTicks, now, last) == last)
        {
            CacheLog.DistributedUnavailable(_logger, operation, e.GetType().Name, LogInterval);
        }
    }
}
