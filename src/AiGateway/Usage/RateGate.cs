namespace AiGateway.Usage;

/// <summary>Lets one caller through per interval: warnings about one ongoing condition, not one per record.</summary>
internal sealed class RateGate(TimeProvider time, TimeSpan interval)
{
    private long _last;

    public bool TryEnter()
    {
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref _last);
        if (last != 0 && time.GetElapsedTime(last, now) < interval) return false;
        return Interlocked.CompareExchange(ref _last, now, last) == last;
    }
}
