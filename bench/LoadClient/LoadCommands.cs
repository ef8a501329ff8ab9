using System.Diagnostics;

namespace LoadClient;

/// <summary>Closed loop (fixed connections, as fast as they go) and open loop (fixed rate).</summary>
internal static class LoadCommands
{
    /// <summary><c>loop --url --body --connections 64 --duration 10 [--stream 1] [-H ...] [--prefix p_]</c></summary>
    public static async Task<int> LoopAsync(Options options)
    {
        using var exchange = new Exchange(options);
        var connections = (int)options.Number("connections", 64);
        var duration = Stopwatch.Frequency * (long)(options.Number("duration") * 1000) / 1000;
        await WarmUpAsync(exchange, options);
        var results = new List<ExchangeResult>[connections];
        var cpu = CpuSampler.Start(options);
        var start = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, connections).Select(async worker =>
        {
            var mine = results[worker] = new List<ExchangeResult>(4096);
            await Task.Yield();
            while (Stopwatch.GetTimestamp() - start < duration)
            {
                mine.Add(await exchange.SendAsync());
            }
        }).ToArray();
        await Task.WhenAll(workers);
        var elapsed = (double)(Stopwatch.GetTimestamp() - start) / Stopwatch.Frequency;
        Summary.Print(options, results.SelectMany(r => r).ToList(), elapsed, exchange.Stream, dropped: 0, cpu?.ElapsedMicroseconds());
        return 0;
    }

    /// <summary><c>rate --url --body --rate 500 --duration 10 [--stream 1] [--max-outstanding N] [-H ...]</c>.
    /// Latency runs from the actual send; a send that would exceed the outstanding cap is dropped and
    /// counted as an error, so a saturated target shows as errors rather than as an ever-growing queue.</summary>
    public static async Task<int> RateAsync(Options options)
    {
        using var exchange = new Exchange(options);
        var rate = options.Number("rate");
        var total = (int)(rate * options.Number("duration"));
        var maxOutstanding = (int)options.Number("max-outstanding", Math.Max(256, rate));
        await WarmUpAsync(exchange, options);
        var results = new ExchangeResult[total];
        var tasks = new List<Task>(total);
        var outstanding = 0;
        var dropped = 0;
        var cpu = CpuSampler.Start(options);
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < total; i++)
        {
            var due = (long)(i * Stopwatch.Frequency / rate);
            var wait = due - (Stopwatch.GetTimestamp() - start);
            if (wait > 0)
            {
                await Task.Delay(TimeSpan.FromTicks(Math.Max(1, wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency)));
            }

            if (Volatile.Read(ref outstanding) >= maxOutstanding)
            {
                dropped++;
                continue;
            }

            Interlocked.Increment(ref outstanding);
            var index = i;
            tasks.Add(Task.Run(async () =>
            {
                results[index] = await exchange.SendAsync();
                Interlocked.Decrement(ref outstanding);
            }));
        }

        await Task.WhenAll(tasks);
        var cpuMicroseconds = cpu?.ElapsedMicroseconds();
        var elapsed = (double)(Stopwatch.GetTimestamp() - start) / Stopwatch.Frequency;
        var sent = results.Where(r => r.TotalTicks > 0).ToList();
        Summary.Print(options, sent, elapsed, exchange.Stream, dropped, cpuMicroseconds);
        return 0;
    }

    /// <summary>The client's own JIT warm-up (<c>--client-warmup</c> sequential requests, default 50), not
    /// recorded, so that the first measured requests do not carry the client's start-up cost.</summary>
    private static async Task WarmUpAsync(Exchange exchange, Options options)
    {
        var count = (int)options.Number("client-warmup", 50);
        for (var i = 0; i < count; i++)
        {
            await exchange.SendAsync();
        }
    }
}
