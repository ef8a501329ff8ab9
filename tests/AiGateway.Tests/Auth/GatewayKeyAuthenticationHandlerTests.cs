using AiGateway.Auth;
using Microsoft.AspNetCore.Http;

namespace AiGateway.Tests.Auth;

public class GatewayKeyAuthenticationHandlerTests
{
    [Theory]
    [InlineData("Authorization", "Bearer sk-abc", "sk-abc")]
    [InlineData("Authorization", "bearer   sk-abc  ", "sk-abc")]
    [InlineData("Authorization", "Basic dXNlcjpwYXNz", null)]
    [InlineData("Authorization", "Bearer ", null)]
    [InlineData("api-key", "sk-azure-style", "sk-azure-style")]
    [InlineData("api-key", "   ", null)]
    [InlineData("x-other", "sk-abc", null)]
    public void ReadCredential_Headers_ExtractsKey(string header, string value, string? expected)
    {
        var headers = new HeaderDictionary { [header] = value };

        Assert.Equal(expected, GatewayKeyAuthenticator.ReadCredential(headers));
    }

    [Theory]
    [InlineData(true, "sk-anthropic-style")]
    [InlineData(false, null)]
    public void ReadCredential_XApiKey_AcceptedOnlyWhenAsked(bool acceptXApiKey, string? expected)
    {
        var headers = new HeaderDictionary { ["x-api-key"] = "sk-anthropic-style" };

        Assert.Equal(expected, GatewayKeyAuthenticator.ReadCredential(headers, acceptXApiKey));
    }

    [Fact]
    public void Sha256Hex_MatchesSha256sum()
    {
        // printf %s hello | sha256sum
        Assert.Equal("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", GatewayKeyAuthenticator.Sha256Hex("hello"));
        Assert.Equal(64, GatewayKeyAuthenticator.Sha256Hex(new string('x', 10_000)).Length);
    }
}
