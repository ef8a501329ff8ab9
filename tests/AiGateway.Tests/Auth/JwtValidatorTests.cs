using System.Security.Cryptography;
using System.Text;
using AiGateway.Auth;
using AiGateway.Configuration;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AiGateway.Tests.Auth;

public sealed class JwtValidatorTests : IDisposable
{
    private const string Issuer = "https://issuer.test";
    private const string Audience = "aigw";

    private static readonly DateTime Now = new(2030, 1, 1, 12, 0, 0, DateTimeKind.Utc);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(Now));
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly RSA _otherRsa = RSA.Create(2048);
    private readonly ECDsa _ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public void Dispose()
    {
        _rsa.Dispose();
        _otherRsa.Dispose();
        _ec.Dispose();
    }

    private RsaSecurityKey RsaKey => new(_rsa) { KeyId = "rsa1" };
    private ECDsaSecurityKey EcKey => new(_ec) { KeyId = "ec1" };

    /// <summary>The public halves of the test keys as a config JWKS.</summary>
    internal static JwksOptions Jwks(params SecurityKey[] keys) => new()
    {
        Keys = keys.Select(k =>
        {
            var jwk = k switch
            {
                RsaSecurityKey rsa => JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.Rsa.ExportParameters(false)) { KeyId = rsa.KeyId }),
                ECDsaSecurityKey ec => JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(ec.ECDsa.ExportParameters(false))) { KeyId = ec.KeyId }),
                SymmetricSecurityKey symmetric => JsonWebKeyConverter.ConvertFromSymmetricSecurityKey(symmetric),
                _ => throw new ArgumentOutOfRangeException(nameof(keys)),
            };
            var fields = new Dictionary<string, string> { ["kty"] = jwk.Kty };
            if (jwk.Kid is not null) fields["kid"] = jwk.Kid;
            if (jwk.N is not null) fields["n"] = jwk.N;
            if (jwk.E is not null) fields["e"] = jwk.E;
            if (jwk.Crv is not null) fields["crv"] = jwk.Crv;
            if (jwk.X is not null) fields["x"] = jwk.X;
            if (jwk.Y is not null) fields["y"] = jwk.Y;
            if (jwk.K is not null) fields["k"] = jwk.K;
            return fields;
        }).ToList(),
    };

    internal static string Mint(SecurityKey key, string algorithm, string issuer = Issuer, string audience = Audience,
        DateTime? notBefore = null, DateTime? expires = null, IDictionary<string, object>? claims = null)
    {
        var now = Now;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            NotBefore = notBefore ?? now.AddMinutes(-1),
            IssuedAt = (notBefore ?? now.AddMinutes(-1)).AddSeconds(-1),
            Expires = expires ?? now.AddMinutes(10),
            SigningCredentials = new SigningCredentials(key, algorithm),
            Claims = claims ?? new Dictionary<string, object> { ["sub"] = "user-42" },
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    private JwtValidator Validator(JwtOptions? options = null, AuthOptions? auth = null)
    {
        options ??= new JwtOptions { Issuer = Issuer, Audiences = [Audience], SigningKeys = Jwks(RsaKey, EcKey) };
        auth ??= new AuthOptions();
        return JwtValidator.Compile(options, auth, _ => null, _time);
    }

    [Theory]
    [InlineData(SecurityAlgorithms.RsaSha256)]
    [InlineData(SecurityAlgorithms.EcdsaSha256)]
    public async Task ValidateAsync_ValidToken_ReturnsConfiguredIdentityAndSubject(string algorithm)
    {
        var token = Mint(algorithm == SecurityAlgorithms.RsaSha256 ? RsaKey : EcKey, algorithm);

        var (caller, subject, failure) = await Validator().ValidateAsync(token, default);

        Assert.Null(failure);
        Assert.Equal("jwt", caller!.Name);
        Assert.Equal("user-42", subject);
        Assert.True(caller.Models.Allows("any-model"));
        Assert.StartsWith("jwt#", caller.CacheIdentity, StringComparison.Ordinal);
        Assert.DoesNotContain("user-42", caller.CacheIdentity, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> Rejected => new()
    {
        { "expired", "The token has expired." },
        { "not-yet-valid", "The token is not valid yet (nbf)." },
        { "wrong-issuer", "The token's issuer is not accepted." },
        { "wrong-audience", "The token's audience is not accepted." },
        { "bad-signature", "The token's signature is invalid." },
        { "unknown-key", "The token's signing key is not known." },
        { "alg-none", "The token's signature is invalid." },
        { "hs256-without-symmetric-key", "The token's signature is invalid." },
    };

    [Theory]
    [MemberData(nameof(Rejected))]
    public async Task ValidateAsync_BadToken_FailsWithReasonNotToken(string scenario, string expected)
    {
        var now = Now;
        var token = scenario switch
        {
            // Beyond the 2-minute default skew.
            "expired" => Mint(RsaKey, SecurityAlgorithms.RsaSha256, notBefore: now.AddMinutes(-20), expires: now.AddMinutes(-5)),
            "not-yet-valid" => Mint(RsaKey, SecurityAlgorithms.RsaSha256, notBefore: now.AddMinutes(5), expires: now.AddMinutes(20)),
            "wrong-issuer" => Mint(RsaKey, SecurityAlgorithms.RsaSha256, issuer: "https://evil.test"),
            "wrong-audience" => Mint(RsaKey, SecurityAlgorithms.RsaSha256, audience: "someone-else"),
            "bad-signature" => TamperSignature(Mint(RsaKey, SecurityAlgorithms.RsaSha256)),
            "unknown-key" => Mint(new RsaSecurityKey(_otherRsa) { KeyId = "other" }, SecurityAlgorithms.RsaSha256),
            "alg-none" => Unsigned(),
            "hs256-without-symmetric-key" => Mint(new SymmetricSecurityKey(new byte[32]) { KeyId = "rsa1" }, SecurityAlgorithms.HmacSha256),
            _ => throw new ArgumentOutOfRangeException(nameof(scenario)),
        };

        var (caller, _, failure) = await Validator().ValidateAsync(token, default);

        Assert.Null(caller);
        Assert.Equal(expected, failure);
        Assert.DoesNotContain(token.Split('.')[1], failure!, StringComparison.Ordinal);
    }

    private static string TamperSignature(string token)
    {
        var parts = token.Split('.');
        var signature = Base64UrlEncoder.DecodeBytes(parts[2]);
        signature[10] ^= 0xFF;
        return $"{parts[0]}.{parts[1]}.{Base64UrlEncoder.Encode(signature)}";
    }

    private static string Unsigned()
    {
        var header = Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT","kid":"rsa1"}""");
        var exp = new DateTimeOffset(Now).AddMinutes(10).ToUnixTimeSeconds();
        var payload = Base64UrlEncoder.Encode($$"""{"iss":"{{Issuer}}","aud":"{{Audience}}","sub":"x","exp":{{exp}}}""");
        return $"{header}.{payload}.";
    }

    [Fact]
    public async Task ValidateAsync_Hs256WithConfiguredSymmetricKey_Accepted()
    {
        var secret = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)) { KeyId = "shared" };
        var validator = Validator(new JwtOptions { Issuer = Issuer, Audiences = [Audience], SigningKeys = Jwks(secret) });

        var (caller, _, failure) = await validator.ValidateAsync(Mint(secret, SecurityAlgorithms.HmacSha256), default);

        Assert.Null(failure);
        Assert.NotNull(caller);
    }

    [Fact]
    public async Task ValidateAsync_ExpiredWithinSkew_Accepted()
    {
        var now = Now;
        var token = Mint(RsaKey, SecurityAlgorithms.RsaSha256, notBefore: now.AddMinutes(-10), expires: now.AddSeconds(-30));

        var (caller, _, _) = await Validator().ValidateAsync(token, default);

        Assert.NotNull(caller);
    }

    [Theory]
    [InlineData("scope", "chat read", null)]
    [InlineData("scp", "chat", null)]
    [InlineData("scope", "read", "The token lacks the required scope 'chat'.")]
    [InlineData("other", "chat", "The token lacks the required scope 'chat'.")]
    public async Task ValidateAsync_RequiredScopes_CheckedAgainstScopeAndScp(string claim, string value, string? expected)
    {
        var validator = Validator(new JwtOptions { Issuer = Issuer, Audiences = [Audience], SigningKeys = Jwks(RsaKey), RequiredScopes = ["chat"] });
        var token = Mint(RsaKey, SecurityAlgorithms.RsaSha256, claims: new Dictionary<string, object> { ["sub"] = "u", [claim] = value });

        var (_, _, failure) = await validator.ValidateAsync(token, default);

        Assert.Equal(expected, failure);
    }

    [Fact]
    public async Task ValidateAsync_ScpArray_Accepted()
    {
        var validator = Validator(new JwtOptions { Issuer = Issuer, Audiences = [Audience], SigningKeys = Jwks(RsaKey), RequiredScopes = ["chat"] });
        var token = Mint(RsaKey, SecurityAlgorithms.RsaSha256, claims: new Dictionary<string, object> { ["sub"] = "u", ["scp"] = new[] { "read", "chat" } });

        var (caller, _, failure) = await validator.ValidateAsync(token, default);

        Assert.Null(failure);
        Assert.NotNull(caller);
    }

    [Theory]
    [InlineData("echo gpt-*", "echo", true)]
    [InlineData("echo gpt-*", "gpt-4o", true)]
    [InlineData("echo gpt-*", "claude", false)]
    [InlineData("", "echo", false)]
    public async Task ValidateAsync_ModelsClaimString_RestrictsModels(string claimValue, string model, bool allowed)
    {
        var validator = Validator(new JwtOptions { Issuer = Issuer, Audiences = [Audience], SigningKeys = Jwks(RsaKey), ModelsClaim = "models" });
        var token = Mint(RsaKey, SecurityAlgorithms.RsaSha256, claims: new Dictionary<string, object> { ["sub"] = "u", ["models"] = claimValue });

        var (caller, _, _) = await validator.ValidateAsync(token, default);

        Assert.Equal(allowed, caller!.Models.Allows(model));
    }

    [Fact]
    public async Task ValidateAsync_ModelsClaimArrayOrAbsent_RestrictsOrAllowsAll()
    {
        var validator = Validator(new JwtOptions { Issuer = Issuer, Audiences = [Audience], SigningKeys = Jwks(RsaKey), ModelsClaim = "models" });

        var (restricted, _, _) = await validator.ValidateAsync(Mint(RsaKey, SecurityAlgorithms.RsaSha256,
            claims: new Dictionary<string, object> { ["sub"] = "u", ["models"] = new[] { "echo" } }), default);
        var (open, _, _) = await validator.ValidateAsync(Mint(RsaKey, SecurityAlgorithms.RsaSha256), default);

        Assert.True(restricted!.Models.Allows("echo"));
        Assert.False(restricted.Models.Allows("gpt-4o"));
        Assert.True(open!.Models.Allows("gpt-4o"));
    }

    [Theory]
    [InlineData("research", "research")]
    [InlineData("unknown-team", null)]
    public async Task ValidateAsync_TeamClaim_OnlyConfiguredTeamsCount(string claimed, string? expected)
    {
        var auth = new AuthOptions { Teams = new(StringComparer.Ordinal) { ["research"] = new TeamOptions { RateLimit = new RateLimitSettings { RequestsPerMinute = 5 } } } };
        var options = new JwtOptions { Issuer = Issuer, Audiences = [Audience], SigningKeys = Jwks(RsaKey), TeamClaim = "team", NameClaim = "email" };
        var validator = JwtValidator.Compile(options, auth, team => AiGateway.RateLimiting.LimitRule.PerMinute(AiGateway.RateLimiting.LimitScopeKind.Team, team, 5, null), _time);
        var token = Mint(RsaKey, SecurityAlgorithms.RsaSha256, claims: new Dictionary<string, object> { ["email"] = "a@b.test", ["team"] = claimed });

        var (caller, subject, _) = await validator.ValidateAsync(token, default);

        Assert.Equal("a@b.test", subject);
        Assert.Equal(expected, caller!.Team);
        Assert.Equal(expected is not null, caller.TeamLimit is not null);
    }

    [Fact]
    public async Task ValidateAsync_JwksUriUnreachable_FailsWithClearMessage()
    {
        var validator = Validator(new JwtOptions { Issuer = Issuer, Audiences = [Audience], JwksUri = "http://127.0.0.1:9/jwks.json" });

        var (caller, _, failure) = await validator.ValidateAsync(Mint(RsaKey, SecurityAlgorithms.RsaSha256), default);

        Assert.Null(caller);
        Assert.Equal("The token's signing keys could not be retrieved from the issuer; try again later.", failure);
    }

    [Theory]
    [InlineData("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", true)]
    [InlineData("sk-test-alpha-0123456789", false)]
    [InlineData("a.b", false)]
    [InlineData("a.b.c.d", false)]
    [InlineData(".b.c", false)]
    [InlineData("a..c", false)]
    [InlineData("a.b.", false)]
    [InlineData("a+b.c.d/e", false)]
    public void LooksLikeJwt_Shapes(string credential, bool expected) => Assert.Equal(expected, JwtValidator.LooksLikeJwt(credential));
}
