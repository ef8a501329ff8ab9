using AiGateway.Hosting;

namespace AiGateway.Tests.Hosting;

public class CorrelationMiddlewareTests
{
    [Theory]
    [InlineData("abc-123", true)]
    [InlineData("req_01:a.b", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("has space", false)]
    [InlineData("new\nline", false)]
    [InlineData("<script>", false)]
    [InlineData("ünïcode", false)]
    public void IsValid_Ids_AcceptsOnlySafeCharacters(string? id, bool expected) =>
        Assert.Equal(expected, CorrelationMiddleware.IsValid(id));

    [Fact]
    public void IsValid_TooLong_IsRejected()
    {
        Assert.True(CorrelationMiddleware.IsValid(new string('a', 128)));
        Assert.False(CorrelationMiddleware.IsValid(new string('a', 129)));
    }

    [Fact]
    public void NewId_Shape_TimeOrderedHexAndValid()
    {
        var at = new DateTimeOffset(2026, 11, 29, 16, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

        var id = CorrelationMiddleware.NewId(at);
        var later = CorrelationMiddleware.NewId(at + 1);

        Assert.Matches("^req_[0-9a-f]{32}$", id);
        Assert.True(CorrelationMiddleware.IsValid(id));
        // The first 12 hex digits are the milliseconds, as in a UUIDv7.
        Assert.Equal(at.ToString("x12", System.Globalization.CultureInfo.InvariantCulture), id[4..16]);
        Assert.True(string.CompareOrdinal(id, later) < 0);
    }

    [Fact]
    public void NewId_SameMillisecond_Distinct()
    {
        var ids = Enumerable.Range(0, 10_000).Select(_ => CorrelationMiddleware.NewId(1)).ToHashSet();

        Assert.Equal(10_000, ids.Count);
    }
}
