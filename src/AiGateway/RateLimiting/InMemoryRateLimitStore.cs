using System.Collections.Concurrent;

namespace AiGateway.RateLimiting;

/// <summary>
/// Counters in this process: exact for one replica. One lock per counter; a request locks its counters
/// in ordinal key order, so multi-scope admission is all-or-nothing without deadlocks and unrelated keys
/// never contend. Counters idle for two windows are swept off the request path.
/// </summary>
internal sealed class InMemoryRateLimitStore : IRateLimitStore
{
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;
    private readonly long _sweepIntervalMs;
    private long _nextSweepMs;
    private int _sweeping;

    public InMemoryRateLimitStore(TimeProvider timeProvider, TimeSpan sweepInterval)
    {
        _timeProvider = timeProvider;
        _sweepIntervalMs = Math.Max(1, (long)sweepInterval.TotalMilliseconds);
        _nextSweepMs = NowMs() + _sweepIntervalMs;
    }

    /// <summary>Live counters (for tests and diagnostics).</summary>
    internal int Count => _counters.Count;

    public ValueTask<StoreReservation> ReserveAsync(IReadOnlyList<LimitRule> rules, long tokens)
    {
        var now = NowMs();
        var keys = new string[rules.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = rules[i].CounterKey;
        }

        var order = SortedIndexes(keys);
        var counters = new Counter[rules.Count];
        var snapshots = new WindowSnapshot[rules.Count];
        var admitted = false;

        while (true)
        {
            for (var i = 0; i < rules.Count; i++)
            {
                counters[i] = _counters.GetOrAdd(keys[i], static (_, w) => new Counter(w), rules[i].WindowMs);
            }

            var entered = 0;
            var removed = false;
            try
            {
                for (; entered < order.Length; entered++)
                {
                    var c = counters[order[entered]];
                    c.Gate.Enter();
                    if (c.Removed)
                    {
                        entered++;
                        removed = true;
                        break;
                    }
                }

                if (!removed)
                {
                    admitted = true;
                    for (var i = 0; i < rules.Count; i++)
                    {
                        var c = counters[i];
                        var rule = rules[i];
                        c.Roll(now / c.WindowMs);
                        var elapsed = now % c.WindowMs;
                        snapshots[i] = new WindowSnapshot(now, c.CurrentRequests, c.PreviousRequests, c.CurrentTokens, c.PreviousTokens);
                        if ((rule.Requests is { } rpm && !SlidingWindow.Fits(c.CurrentRequests, c.PreviousRequests, elapsed, c.WindowMs, 1, rpm))
                            || (rule.Tokens is { } tpm && !SlidingWindow.Fits(c.CurrentTokens, c.PreviousTokens, elapsed, c.WindowMs, tokens, tpm)))
                        {
                            admitted = false;
                        }
                    }

                    if (admitted)
                    {
                        foreach (var c in counters)
                        {
                            c.CurrentRequests++;
                            c.CurrentTokens += tokens;
                        }
                    }
                }
            }
            finally
            {
                for (var j = entered - 1; j >= 0; j--)
                {
                    counters[order[j]].Gate.Exit();
                }
            }

            if (!removed)
            {
                break;
            }

            // A sweep retired one of our counters between lookup and lock; look it up again.
        }

        MaybeSweep(now);
        return ValueTask.FromResult(new StoreReservation(admitted, snapshots));
    }

    public ValueTask AdjustAsync(IReadOnlyList<LimitRule> rules, long[] windowIndexes, long requestDelta, long tokenDelta)
    {
        var now = NowMs();
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            var key = rule.CounterKey;
            while (true)
            {
                var debit = requestDelta > 0 || tokenDelta > 0;
                Counter? c;
                if (debit)
                {
                    c = _counters.GetOrAdd(key, static (_, w) => new Counter(w), rule.WindowMs);
                }
                else if (!_counters.TryGetValue(key, out c))
                {
                    break;
                }

                lock (c.Gate)
                {
                    if (c.Removed)
                    {
                        continue;
                    }

                    c.Roll(now / c.WindowMs);
                    c.Apply(windowIndexes[i], requestDelta, tokenDelta);
                }

                break;
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Removes counters whose windows no longer count; returns how many were removed.</summary>
    internal int Sweep()
    {
        var now = NowMs();
        var removed = 0;
        foreach (var pair in _counters)
        {
            var c = pair.Value;
            lock (c.Gate)
            {
                if (c.Window >= (now / c.WindowMs) - 1)
                {
                    continue;
                }

                c.Removed = true;
            }

            if (_counters.TryRemove(pair))
            {
                removed++;
            }
        }

        return removed;
    }

    private void MaybeSweep(long now)
    {
        var due = Volatile.Read(ref _nextSweepMs);
        if (now < due || Interlocked.CompareExchange(ref _sweeping, 1, 0) != 0)
        {
            return;
        }

        Volatile.Write(ref _nextSweepMs, now + _sweepIntervalMs);
        ThreadPool.UnsafeQueueUserWorkItem(
            static store =>
            {
                try
                {
                    store.Sweep();
                }
                finally
                {
                    Volatile.Write(ref store._sweeping, 0);
                }
            },
            this,
            preferLocal: false);
    }

    private long NowMs() => _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    private static int[] SortedIndexes(string[] keys)
    {
        var order = new int[keys.Length];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        if (order.Length > 1)
        {
            Array.Sort(order, (a, b) => string.CompareOrdinal(keys[a], keys[b]));
        }

        return order;
    }

    private sealed class Counter(long windowMs)
    {
        public readonly Lock Gate = new();
        public readonly long WindowMs = windowMs;
        public long Window;
        public long CurrentRequests;
        public long PreviousRequests;
        public long CurrentTokens;
        public long PreviousTokens;
        public bool Removed;

        public void Roll(long window)
        {
            if (window == Window)
            {
                return;
            }

            if (window == Window + 1)
            {
                PreviousRequests = CurrentRequests;
                PreviousTokens = CurrentTokens;
            }
            else
            {
                PreviousRequests = 0;
                PreviousTokens = 0;
            }

            CurrentRequests = 0;
            CurrentTokens = 0;
            Window = window;
        }

        public void Apply(long chargedWindow, long requestDelta, long tokenDelta)
        {
            if (chargedWindow == Window)
            {
                CurrentRequests = Math.Max(0, CurrentRequests + requestDelta);
                CurrentTokens = Math.Max(0, CurrentTokens + tokenDelta);
            }
            else if (chargedWindow == Window - 1)
            {
                PreviousRequests = Math.Max(0, PreviousRequests + requestDelta);
                PreviousTokens = Math.Max(0, PreviousTokens + tokenDelta);
            }
            else
            {
                // The charged window no longer counts: refunds have nothing left to refund, debits land now.
                CurrentRequests += Math.Max(0, requestDelta);
                CurrentTokens += Math.Max(0, tokenDelta);
            }
        }
    }
}
