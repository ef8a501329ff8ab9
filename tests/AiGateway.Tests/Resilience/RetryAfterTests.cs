using System.Net;
using AiGateway.Resilience;
using Microsoft.Extensions.Time.Testing;

namespace AiGateway.Tests.Resilience;

public class RetryAfterTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    [Theory]
    [InlineData("retry-after-ms", "1500", 1500)]
    [InlineData("x-ms-retry-after-ms", "250", 250)]
    [InlineData("retry-after", "7", 7000)]
    [InlineData("retry-after", "Thu, 01 Jan 2026 00:00:03 GMT", 3000)]
    [InlineData("retry-after", "Wed, 31 Dec 2025 23:00:00 GMT", 0)]
    public void Read_Headers_GiveDelay(string header, string value, int expectedMs)
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.TryAddWithoutValidation(header, value);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), RetryAfter.Read(response, _time));
    }

    [Fact]
    public void Read_MillisecondsWinOverSeconds_AndGarbageIsIgnored()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.TryAddWithoutValidation("retry-after", "20");
        response.Headers.TryAddWithoutValidation("retry-after-ms", "300");
        using var garbage = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        garbage.Headers.TryAddWithoutValidation("retry-after-ms", "soon");

        Assert.Equal(TimeSpan.FromMilliseconds(300), RetryAfter.Read(response, _time));
        Assert.Null(RetryAfter.Read(garbage, _time));
    }
}
