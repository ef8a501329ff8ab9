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

    /// <summary>The <c>x-ratelimit-*</c> headers of an admitted request; none for a degraded (fail-open) admission.</summary>
    public static void Write(IHeaderDictionary headers, RateLimitReservation reservation)
    {
        Write(headers, reservation.Requests, reservation.Tokens);
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
            headers[LimitRequests] = requests.Limit.ToString(CultureInfo.InvariantCulture);
            headers[RemainingRequests] = requests.Remaining.ToString(CultureInfo.InvariantCulture);
            headers[ResetRequests] = FormatDuration(requests.ResetAfter);
        }

        if (tokens is not null)
        {
            headers[LimitTokens] = tokens.Limit.ToString(CultureInfo.InvariantCulture);
            headers[RemainingTokens] = tokens.Remaining.ToString(CultureInfo.InvariantCulture);
            headers[ResetTokens] = FormatDuration(tokens.ResetAfter);
        }
    }
}
