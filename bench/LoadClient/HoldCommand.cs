using System.Diagnostics;
using System.Globalization;

namespace LoadClient;

/// <summary>Opens many slow streams at once, tells run.sh when all are open, waits for them to end.</summary>
internal static class HoldCommand
{
    /// <summary><c>hold --url --body --streams 5000 --ready-file F [--ready-timeout 60] [--open-parallel 200]</c>.
    /// The stream shape (slow chunks) is set on the fake upstream by run.sh. The ready file holds the
    /// number of streams open at once when it is written.</summary>
    public static async Task<int> RunAsync(Options options)
    {
        using var exchange = new Exchange(options);
        var streams = (int)options.Number("streams", 5000);
        var readyFile = options.String("ready-file");
        var readyTimeout = TimeSpan.FromSeconds(options.Number("ready-timeout", 60));
        using var opening = new SemaphoreSlim((int)options.Number("open-parallel", 200));
        var open = 0;
        var finished = 0;
        var allOpen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var start = Stopwatch.GetTimestamp();

        var tasks = Enumerable.Range(0, streams).Select(async _ =>
        {
            await opening.WaitAsync();
            var released = false;
            void OnFirstEvent()
            {
                released = true;
                opening.Release();
                if (Interlocked.Increment(ref open) == streams)
                {
                    allOpen.TrySetResult();
                }
            }

            try
            {
                return await exchange.SendAsync(OnFirstEvent);
            }
            finally
            {
                if (!released)
                {
                    opening.Release();
                }

                Interlocked.Increment(ref finished);
            }
        }).ToArray();

        await Task.WhenAny(allOpen.Task, Task.Delay(readyTimeout), Task.WhenAll(tasks));
        var concurrent = Volatile.Read(ref open) - Volatile.Read(ref finished);
        var openSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        await File.WriteAllTextAsync(readyFile, concurrent.ToString(CultureInfo.InvariantCulture) + "\n");

        var results = await Task.WhenAll(tasks);
        var prefix = options.Optional("prefix") ?? "";
        Summary.Write(prefix, "concurrent", concurrent);
        Summary.Write(prefix, "open_s", openSeconds);
        Summary.Write(prefix, "errors", results.Count(r => !r.Ok));
        Summary.Write(prefix, "events_avg", results.Where(r => r.Ok).Select(r => (double)r.Events).DefaultIfEmpty().Average());
        return 0;
    }
}
