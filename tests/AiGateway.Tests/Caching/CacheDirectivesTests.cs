using AiGateway.Caching;
using Microsoft.AspNetCore.Http;

namespace AiGateway.Tests.Caching;

public sealed class CacheDirectivesTests
{
    private static CacheDirectives Read(params (string Name, string Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers) dictionary.Append(name, value);
        return CacheDirectives.Read(dictionary, TimeSpan.FromMinutes(10), TimeSpan.FromHours(1));
    }

    [Fact]
    public void Read_NoHeaders_Defaults() =>
        Assert.Equal(new CacheDirectives(false, false, TimeSpan.FromMinutes(10), null), Read());

    [Theory]
    [InlineData("no-cache", true, false)]
    [InlineData("no-store", false, true)]
    [InlineData("No-Cache, no-store", true, true)]
    [InlineData("max-age=0", false, false)]
    public void Read_CacheControl(string value, bool noCache, bool noStore)
    {
        var directives = Read(("Cache-Control", value));
        Assert.Equal((noCache, noStore), (directives.NoCache, directives.NoStore));
    }

    [Theory]
    [InlineData("60", 60)]
    [InlineData("3600", 3600)]
    public void Read_Ttl_Accepted(string value, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Read(("x-gateway-cache-ttl", value)).Ttl);

    [Theory]
    [InlineData("0")]
    [InlineData("3601")]
    [InlineData("-5")]
    [InlineData("1.5")]
    [InlineData("soon")]
    public void Read_Ttl_OutOfBounds_Error(string value) =>
        Assert.Equal("The x-gateway-cache-ttl header must be a whole number of seconds from 1 to 3600.", Read(("x-gateway-cache-ttl", value)).Error);
}
