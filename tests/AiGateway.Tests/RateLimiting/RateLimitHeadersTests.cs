using AiGateway.RateLimiting;
using Microsoft.AspNetCore.Http;

namespace AiGateway.Tests.RateLimiting;

public class RateLimitHeadersTests
{
    private static readonly LimitScope Scope = new(LimitScopeKind.Key, "k");

    [Theory]
    [InlineData(0, "0ms")]
    [InlineData(20, "20ms")]
    [InlineData(1_000, "1s")]
    [InlineData(1_500, "1.5s")]
    [InlineData(360_000, "6m0s")]
    [InlineData(107_655, "1m47.655s")]
    [InlineData(3_600_000, "1h0m0s")]
    [InlineData(999, "999ms")]
    [InlineData(1_005, "1.005s")]
    [InlineData(1_050, "1.05s")]
    [InlineData(1_501, "1.501s")]
    [InlineData(59_999, "59.999s")]
    [InlineData(86_400_000, "24h0m0s")]
    [InlineData(90_061_010, "25h1m1.01s")]
    public void FormatDuration_WritesOpenAiStyle(long ms, string expected) =>
        Assert.Equal(expected, RateLimitHeaders.FormatDuration(TimeSpan.FromMilliseconds(ms)));

    [Fact]
    public void Replace_Reservation_WritesTightestRequestAndTokenLimits()
    {
        var reservation = new RateLimitReservation(
            [],
            [],
            100,
            new RateLimitStatus(Scope, LimitDimension.Requests, 60, 59, TimeSpan.FromSeconds(1)),
            new RateLimitStatus(Scope, LimitDimension.Tokens, 150_000, 149_984, TimeSpan.FromMilliseconds(6)),
            isDegraded: false);
        var headers = new HeaderDictionary();

        RateLimitHeaders.Replace(headers, reservation);

        Assert.Equal("60", headers["x-ratelimit-limit-requests"]);
        Assert.Equal("59", headers["x-ratelimit-remaining-requests"]);
        Assert.Equal("1s", headers["x-ratelimit-reset-requests"]);
        Assert.Equal("150000", headers["x-ratelimit-limit-tokens"]);
        Assert.Equal("149984", headers["x-ratelimit-remaining-tokens"]);
        Assert.Equal("6ms", headers["x-ratelimit-reset-tokens"]);
    }

    [Fact]
    public void Replace_DegradedReservation_LeavesNoRateLimitHeader()
    {
        var headers = UpstreamHeaders();

        RateLimitHeaders.Replace(headers, RateLimitReservation.Degraded(10));

        Assert.Equal(["content-type"], headers.Keys);
    }

    [Fact]
    public void Replace_OnlyARequestLimit_ReplacesRequestHeadersAndRemovesTheUpstreamTokenHeaders()
    {
        var headers = UpstreamHeaders();
        var reservation = new RateLimitReservation(
            [], [], 100, new RateLimitStatus(Scope, LimitDimension.Requests, 60, 59, TimeSpan.FromSeconds(1)), null, isDegraded: false);

        RateLimitHeaders.Replace(headers, reservation);

        Assert.Equal("60", headers["x-ratelimit-limit-requests"]);
        Assert.Equal("59", headers["x-ratelimit-remaining-requests"]);
        Assert.Equal("1s", headers["x-ratelimit-reset-requests"]);
        Assert.False(headers.ContainsKey("x-ratelimit-limit-tokens"));
        Assert.False(headers.ContainsKey("x-ratelimit-remaining-tokens"));
        Assert.False(headers.ContainsKey("x-ratelimit-reset-tokens"));
        Assert.Equal(4, headers.Count);
    }

    [Fact]
    public void Replace_ChangedLimit_WritesTheNewLimitNotTheRememberedText()
    {
        foreach (var limit in new long[] { 60, 60, 1_000, 60 })
        {
            var headers = new HeaderDictionary();
            var reservation = new RateLimitReservation(
                [], [], 1,
                new RateLimitStatus(Scope, LimitDimension.Requests, limit, 1, TimeSpan.Zero),
                new RateLimitStatus(Scope, LimitDimension.Tokens, limit * 10, 1, TimeSpan.Zero),
                isDegraded: false);

            RateLimitHeaders.Replace(headers, reservation);

            Assert.Equal(limit.ToString(System.Globalization.CultureInfo.InvariantCulture), headers["x-ratelimit-limit-requests"]);
            Assert.Equal((limit * 10).ToString(System.Globalization.CultureInfo.InvariantCulture), headers["x-ratelimit-limit-tokens"]);
        }
    }

    /// <summary>What a provider sends about the gateway's own quota with it.</summary>
    private static HeaderDictionary UpstreamHeaders() => new()
    {
        ["content-type"] = "application/json",
        ["x-ratelimit-limit-requests"] = "10000",
        ["x-ratelimit-remaining-requests"] = "9999",
        ["x-ratelimit-reset-requests"] = "6ms",
        ["x-ratelimit-limit-tokens"] = "30000000",
        ["x-ratelimit-remaining-tokens"] = "29999980",
        ["x-ratelimit-reset-tokens"] = "0s",
    };

    [Fact]
    public void Write_Rejection_RoundsRetryAfterUp()
    {
        var headers = new HeaderDictionary();
        var rejection = new RateLimitRejection(Scope, LimitDimension.Requests, 60, 1, TimeSpan.FromMilliseconds(1_200.2), null, null);

        RateLimitHeaders.Write(headers, rejection);

        Assert.Equal("2", headers["Retry-After"]);
        Assert.Equal("1201", headers["retry-after-ms"]);
    }

    [Fact]
    public void Write_RejectionThatCanNeverFit_OmitsRetryHeaders()
    {
        var headers = new HeaderDictionary();

        RateLimitHeaders.Write(headers, new RateLimitRejection(Scope, LimitDimension.Tokens, 1_000, 5_000, null, null, null));

        Assert.False(headers.ContainsKey("Retry-After"));
        Assert.False(headers.ContainsKey("retry-after-ms"));
    }
}
