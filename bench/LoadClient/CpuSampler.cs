using System.Globalization;

namespace LoadClient;

/// <summary>User+system CPU of the server processes (<c>--cpu-pids 1,2</c>) over the measured window only,
/// from /proc/PID/stat in clock ticks (<c>--clk-tck</c>, default 100).</summary>
internal sealed class CpuSampler
{
    private readonly int[] _pids;
    private readonly double _ticksPerSecond;
    private readonly long _start;

    private CpuSampler(int[] pids, double ticksPerSecond)
    {
        _pids = pids;
        _ticksPerSecond = ticksPerSecond;
        _start = Ticks();
    }

    public static CpuSampler? Start(Options options) =>
        options.Optional("cpu-pids") is { Length: > 0 } list
            ? new CpuSampler(list.Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray(), options.Number("clk-tck", 100))
            : null;

    /// <summary>Microseconds of CPU used by the processes since <see cref="Start"/>.</summary>
    public double ElapsedMicroseconds() => (Ticks() - _start) * 1_000_000.0 / _ticksPerSecond;

    private long Ticks()
    {
        long total = 0;
        foreach (var pid in _pids)
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{pid}/stat");
            }
            catch (IOException)
            {
                continue;
            }

            // Fields after "(comm)": state is field 3, utime and stime are fields 14 and 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            total += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }

        return total;
    }
}
