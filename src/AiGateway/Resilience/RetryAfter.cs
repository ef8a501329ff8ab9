using System.Globalization;
using System.Net.Http.Headers;

namespace AiGateway.Resilience;

/// <summary>Reads a provider's back-off request: <c>retry-after-ms</c>, <c>x-ms-retry-after-ms</c>, then <c>retry-after</c> (seconds or an HTTP date).</summary>
internal static class RetryAfter
{
    public static TimeSpan? Read(HttpResponseMessage response, TimeProvider time)
    {
        foreach (var name in (ReadOnlySpan<string>)["retry-after-ms", "x-ms-retry-after-ms"])
        {
            if (response.Headers.TryGetValues(name, out var values)
                && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) && ms >= 0)
            {
                return TimeSpan.FromMilliseconds(ms);
            }
        }
        var retryAfter = response.Headers.RetryAfter;
        return Read(retryAfter, time);
    }

    public static TimeSpan? Read(RetryConditionHeaderValue? value, TimeProvider time)
    {
        if (value?.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (value?.Date is { } date)
        {
            var wait = date - time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }
}
