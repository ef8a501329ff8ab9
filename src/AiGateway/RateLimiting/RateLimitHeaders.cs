using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace AiGateway.RateLimiting;

/// <summary>Writes OpenAI's rate-limit headers from a reservation or a rejection.</summary>
internal static class RateLimitHeaders
{
    public const string LimitRequests = "x-ratelimit-limit-requests";
    public const string RemainingRequests = "x-ratelimit-remaining-requests";
    public const string ResetRequests = "x-ratelimit-reset-requests";
    public const string LimitTokens = "x-ratelimit-limit-tokens";
    public const string RemainingTokens = "x-ratelimit-remaining-tokens";
    public const string ResetTokens = "x-ratelimit-reset-tokens";
    public const string RetryAfterMs = "retry-after-ms";

    /// <summary>
    /// The <c>x-ratelimit-*</c> headers of an admitted request, in place of any the upstream sent: a dimension the
    /// caller has no limit on (or a degraded, fail-open admission) has its headers removed.
    /// </summary>
    public static void Replace(IHeaderDictionary headers, RateLimitReservation reservation)
    {
        // Setting a header replaces the upstream's value, so only a dimension left unwritten needs a removal.
        Write(headers, reservation.Requests, reservation.Tokens);
        if (reservation.Requests is null) Remove(headers, LimitRequests, RemainingRequests, ResetRequests);
        if (reservation.Tokens is null) Remove(headers, LimitTokens, RemainingTokens, ResetTokens);
    }

    private static void Remove(IHeaderDictionary headers, string limit, string remaining, string reset)
    {
        headers.Remove(limit);
        headers.Remove(remaining);
        headers.Remove(reset);
    }

    /// <summary>
    /// The headers of a 429: <c>x-ratelimit-*</c>, plus <c>Retry-After</c> (whole seconds, rounded up) and
    /// <c>retry-after-ms</c>. When the request can never fit, no retry headers are sent: retrying cannot help.
    /// </summary>
    public static void Write(IHeaderDictionary headers, RateLimitRejection rejection)
    {
        Write(headers, rejection.Requests, rejection.Tokens);
        if (rejection.RetryAfter is { } retryAfter)
        {
            var ms = (long)Math.Ceiling(retryAfter.TotalMilliseconds);
            headers.RetryAfter = ((ms + 999) / 1000).ToString(CultureInfo.InvariantCulture);
            headers[RetryAfterMs] = ms.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>A Go-style duration as OpenAI sends it: <c>20ms</c>, <c>1s</c>, <c>1.5s</c>, <c>6m0s</c>, <c>1h0m0s</c>.</summary>
    public static string FormatDuration(TimeSpan value)
    {
        var ms = Math.Max(0, (long)Math.Ceiling(value.TotalMilliseconds));
        // Every response carries two of these: formatted with integer arithmetic into one string, no builder.
        Span<char> text = stackalloc char[48];
        var length = 0;
        if (ms < 1000)
        {
            Append(text, ref length, ms);
            text[length++] = 'm';
            text[length++] = 's';
            return new string(text[..length]);
        }

        var hours = ms / 3_600_000;
        var minutes = ms / 60_000 % 60;
        if (hours > 0)
        {
            Append(text, ref length, hours);
            text[length++] = 'h';
        }

        if (hours > 0 || minutes > 0)
        {
            Append(text, ref length, minutes);
            text[length++] = 'm';
        }

        Append(text, ref length, ms % 60_000 / 1000);
        var fraction = (int)(ms % 1000);
        if (fraction != 0)
        {
            // Milliseconds as up to three decimals without trailing zeros: 1.5s, 1.05s, 1.005s.
            text[length++] = '.';
            text[length++] = (char)('0' + fraction / 100);
            if (fraction % 100 != 0) text[length++] = (char)('0' + fraction / 10 % 10);
            if (fraction % 10 != 0) text[length++] = (char)('0' + fraction % 10);
        }
        text[length++] = 's';
        return new string(text[..length]);
    }

    private static void Append(Span<char> text, ref int length, long value)
    {
        value.TryFormat(text[length..], out var written, default, CultureInfo.InvariantCulture);
        length += written;
    }

    private static void Write(IHeaderDictionary headers, RateLimitStatus? requests, RateLimitStatus? tokens)
    {
        if (requests is not null)
        {
            headers[LimitRequests] = LimitText(ref s_requestLimit, requests.Limit);
            headers[RemainingRequests] = requests.Remaining.ToString(CultureInfo.InvariantCulture);
            headers[ResetRequests] = FormatDuration(requests.ResetAfter);
        }

        if (tokens is not null)
        {
            headers[LimitTokens] = LimitText(ref s_tokenLimit, tokens.Limit);
            headers[RemainingTokens] = tokens.Remaining.ToString(CultureInfo.InvariantCulture);
            headers[ResetTokens] = FormatDuration(tokens.ResetAfter);
        }
    }

    // The limits come from config and repeat on every response: the last one written is kept as text.
    private static CachedNumber? s_requestLimit;
    private static CachedNumber? s_tokenLimit;

    private static string LimitText(ref CachedNumber? cache, long limit)
    {
        var cached = Volatile.Read(ref cache);
        if (cached is not null && cached.Value == limit) return cached.Text;
        var text = limit.ToString(CultureInfo.InvariantCulture);
        Volatile.Write(ref cache, new CachedNumber(limit, text));
        return text;
    }

    private sealed record CachedNumber(long Value, string Text);
}
