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
}
