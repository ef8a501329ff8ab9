using System.Buffers;
using AiGateway.Caching;
using AiGateway.Tests.RateLimiting;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace AiGateway.Tests.Caching;

public sealed class ResilientDistributedCacheTests
{
    private sealed class Inner : IBufferDistributedCache
    {
        public int Calls;
        public Func<Task>? Behaviour;

        private async Task RunAsync()
        {
            Interlocked.Increment(ref Calls);
            if (Behaviour is not null) await Behaviour();
        }

        public async ValueTask<bool> TryGetAsync(string key, IBufferWriter<byte> destination, CancellationToken token = default)
        {
            await RunAsync();
            destination.Write("v"u8);
            return true;
        }

        public async ValueTask SetAsync(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options, CancellationToken token = default) => await RunAsync();
        public bool TryGet(string key, IBufferWriter<byte> destination) => throw new NotSupportedException();
        public void Set(string key, ReadOnlySequence<byte> value, DistributedCacheEntryOptions options) => throw new NotSupportedException();
        public byte[]? Get(string key) => throw new NotSupportedException();
        public async Task<byte[]?> GetAsync(string key, CancellationToken token = default) { await RunAsync(); return [1]; }
        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => throw new NotSupportedException();
        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) => RunAsync();
        public void Refresh(string key) => throw new NotSupportedException();
        public Task RefreshAsync(string key, CancellationToken token = default) => RunAsync();
        public void Remove(string key) => throw new NotSupportedException();
        public Task RemoveAsync(string key, CancellationToken token = default) => RunAsync();
    }

    private static (ResilientDistributedCache Cache, Inner Inner, FakeTimeProvider Time, MetricCollector<long> Failures) Create()
    {
        var inner = new Inner();
        var time = new FakeTimeProvider();
        var meters = new TestMeterFactory();
        var metrics = new CacheMetrics(meters);
        var cache = new ResilientDistributedCache(inner, TimeSpan.FromMilliseconds(100), time, metrics, NullLogger.Instance);
        var collector = new MetricCollector<long>(meters, CacheMetrics.MeterName, "aigateway.cache.distributed_failures");
        return (cache, inner, time, collector);
    }

    [Fact]
    public async Task TryGetAsync_Healthy_PassesThrough()
    {
        var (cache, inner, _, _) = Create();
        var buffer = new ArrayBufferWriter<byte>();

        Assert.True(await cache.TryGetAsync("k", buffer));
        Assert.Equal(1, inner.Calls);
    }

    [Fact]
    public async Task Failure_IsAMiss_ThenRedisIsLeftAloneForTheBreak()
    {
        var (cache, inner, time, failures) = Create();
        inner.Behaviour = () => throw new InvalidOperationException("redis down");

        Assert.False(await cache.TryGetAsync("k", new ArrayBufferWriter<byte>()));
        await cache.SetAsync("k", new ReadOnlySequence<byte>(new byte[1]), new DistributedCacheEntryOptions());
        Assert.Null(await cache.GetAsync("k"));
        Assert.Equal(1, inner.Calls);

        time.Advance(ResilientDistributedCache.BreakDuration);
        inner.Behaviour = null;
        Assert.True(await cache.TryGetAsync("k", new ArrayBufferWriter<byte>()));
        Assert.Equal(2, inner.Calls);

        var measurements = failures.GetMeasurementSnapshot();
        Assert.Equal(["error", "unavailable", "unavailable"], measurements.Select(m => (string)m.Tags["reason"]!));
        Assert.Equal(["get", "set", "get"], measurements.Select(m => (string)m.Tags["operation"]!));
    }

    [Fact]
    public async Task SlowRedis_TimesOutAsAMiss()
    {
        var (cache, inner, _, failures) = Create();
        inner.Behaviour = () => Task.Delay(Timeout.Infinite);

        Assert.False(await cache.TryGetAsync("k", new ArrayBufferWriter<byte>()).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("timeout", failures.LastMeasurement!.Tags["reason"]);
    }

    [Fact]
    public async Task CallerCancellation_IsNotARedisFailure()
    {
        var (cache, inner, _, failures) = Create();
        inner.Behaviour = () => Task.Delay(Timeout.Infinite);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cache.RemoveAsync("k", cancelled.Token));
        Assert.Empty(failures.GetMeasurementSnapshot());
    }
}
