using System.Buffers;
using System.Collections.Frozen;
using System.Security.Claims;
using System.Text.Json;
using AiGateway.Configuration;
using AiGateway.RateLimiting;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace AiGateway.Auth;

/// <summary>
/// Validates JWTs against one compiled <c>auth.jwt</c> section and maps their claims to a
/// <see cref="GatewayCaller"/>. One instance per compiled config: the <see cref="TokenValidationParameters"/>
/// and the signing-key cache are built once, and a hot reload builds a new validator.
/// </summary>
internal sealed class JwtValidator
{
    /// <summary>Asymmetric algorithms accepted by default; HMAC only when a symmetric key is configured.</summary>
    private static readonly string[] AsymmetricAlgorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    private static readonly string[] HmacAlgorithms = [SecurityAlgorithms.HmacSha256, SecurityAlgorithms.HmacSha384, SecurityAlgorithms.HmacSha512];

    private static readonly SearchValues<char> Base64UrlOrDot = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.");

    private static readonly JsonWebTokenHandler Handler = new() { MapInboundClaims = false };

    /// <summary>Bounds a key fetch: a request waiting on an unreachable issuer fails in seconds, not minutes.</summary>
    private static readonly HttpClient KeyClient = new() { Timeout = TimeSpan.FromSeconds(10) };

    private readonly TokenValidationParameters _parameters;
    private readonly ConfigurationManager<OpenIdConnectConfiguration>? _keySource;
    private readonly JwtOptions _options;
    private readonly FrozenDictionary<string, (LimitRule? Limit, PromptTransforms.PromptPolicy? Prompts, Usage.Budget? Budget)> _teams;
    private readonly GatewayCaller _defaultCaller;

    private JwtValidator(JwtOptions options, TokenValidationParameters parameters, ConfigurationManager<OpenIdConnectConfiguration>? keySource,
        FrozenDictionary<string, (LimitRule?, PromptTransforms.PromptPolicy?, Usage.Budget?)> teams)
    {
        _options = options;
        _parameters = parameters;
        _keySource = keySource;
        _teams = teams;
        _defaultCaller = new GatewayCaller(options.Name, null, ModelMatcher.All);
    }

    /// <summary>Builds the validator. Nothing is fetched here: remote keys are fetched on first use, so start-up never waits on the issuer.</summary>
    public static JwtValidator Compile(JwtOptions options, AuthOptions auth, Func<string, LimitRule?> teamLimit, TimeProvider? time = null)
    {
        var clock = time ?? TimeProvider.System;
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = options.Issuer,
            ValidAudiences = options.Audiences,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = options.ClockSkew,
            NameClaimType = options.NameClaim,
            // The library's own lifetime check reads the system clock; this one reads the gateway's TimeProvider.
            LifetimeValidator = (notBefore, expires, _, p) => CheckLifetime(notBefore, expires, p.ClockSkew, clock),
        };

        ConfigurationManager<OpenIdConnectConfiguration>? keySource = null;
        var symmetric = false;
        if (ReadInlineKeys(options) is { } keys)
        {
            var signingKeys = SigningKeysOf(keys);
            parameters.IssuerSigningKeys = signingKeys;
            symmetric = signingKeys.Any(k => k is SymmetricSecurityKey);
        }
        else if (options.Authority is not null || options.JwksUri is not null)
        {
            var address = options.JwksUri ?? options.Authority!.TrimEnd('/') + "/.well-known/openid-configuration";
            var retriever = new HttpDocumentRetriever(KeyClient) { RequireHttps = address.StartsWith("https:", StringComparison.OrdinalIgnoreCase) };
            keySource = options.JwksUri is not null
                ? new ConfigurationManager<OpenIdConnectConfiguration>(address, new JwksRetriever(), retriever)
                : new ConfigurationManager<OpenIdConnectConfiguration>(address, new OpenIdConnectConfigurationRetriever(), retriever);
            parameters.ConfigurationManager = keySource;
        }
        parameters.ValidAlgorithms = symmetric ? [.. AsymmetricAlgorithms, .. HmacAlgorithms] : AsymmetricAlgorithms;

        var teams = auth.Teams.ToFrozenDictionary(
            t => t.Key,
            t => (teamLimit(t.Key), PromptTransforms.PromptPolicy.Compile(t.Value.PromptTransforms), Usage.Budget.From(Usage.BudgetScope.Team, t.Key, t.Value.Budget)),
            StringComparer.Ordinal);
        return new JwtValidator(options, parameters, keySource, teams);
    }

    /// <summary>
    /// The signing keys of a configured JWKS. <see cref="JsonWebKeySet.GetSigningKeys"/> covers RSA and EC only;
    /// an <c>oct</c> key counts only here, where an operator wrote it into the config on purpose.
    /// </summary>
    internal static List<SecurityKey> SigningKeysOf(string jwks)
    {
        var set = new JsonWebKeySet(jwks) { SkipUnresolvedJsonWebKeys = true };
        var keys = set.GetSigningKeys().ToList();
        foreach (var key in set.Keys)
        {
            if (key.Kty == JsonWebAlgorithmsKeyTypes.Octet && !string.IsNullOrEmpty(key.K))
            {
                keys.Add(new SymmetricSecurityKey(Base64UrlEncoder.DecodeBytes(key.K)) { KeyId = key.Kid });
            }
        }
        return keys;
    }

    /// <summary>The JWKS JSON of <c>signingKeys</c> or <c>signingKeysFile</c>, or null when keys are remote.</summary>
    internal static string? ReadInlineKeys(JwtOptions options)
    {
        if (options.SigningKeysFile is { } file) return File.ReadAllText(file.StartsWith("file:", StringComparison.Ordinal) ? file[5..] : file);
        if (options.SigningKeys is null) return null;
        return JsonSerializer.Serialize(new Dictionary<string, List<Dictionary<string, string>>> { ["keys"] = options.SigningKeys.Keys });
    }

    /// <summary>
    /// Whether a credential has the shape of a compact JWS (three base64url segments). Cheap, so gateway keys
    /// (which have no dots) leave after one vectorized scan.
    /// </summary>
    public static bool LooksLikeJwt(string credential)
    {
        var span = credential.AsSpan();
        var first = span.IndexOf('.');
        if (first <= 0) return false;
        var rest = span[(first + 1)..];
        var second = rest.IndexOf('.');
        if (second <= 0 || second == rest.Length - 1 || rest[(second + 1)..].Contains('.')) return false;
        return !span.ContainsAnyExcept(Base64UrlOrDot);
    }

    /// <summary>The caller and the subject (for logs only), or null with a 401 message that never contains the token.</summary>
    public async ValueTask<(GatewayCaller? Caller, string? Subject, string? Failure)> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        if (_keySource is not null)
        {
            try
            {
                await _keySource.GetConfigurationAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return (null, null, "The token's signing keys could not be retrieved from the issuer; try again later.");
            }
        }

        TokenValidationResult result;
        try
        {
            result = await Handler.ValidateTokenAsync(token, _parameters);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return (null, null, "The token could not be validated.");
        }
        if (!result.IsValid) return (null, null, Describe(result.Exception));

        var claims = result.ClaimsIdentity;
        foreach (var scope in _options.RequiredScopes)
        {
            if (!Values(claims, "scope").Concat(Values(claims, "scp")).Contains(scope, StringComparer.Ordinal))
            {
                return (null, null, $"The token lacks the required scope '{scope}'.");
            }
        }

        var subject = claims.FindFirst(_options.NameClaim)?.Value;
        var models = ModelMatcher.All;
        if (_options.ModelsClaim is { } modelsClaim && claims.HasClaim(c => c.Type == modelsClaim))
        {
            // A present but empty claim allows nothing, not everything.
            var patterns = Values(claims, modelsClaim).ToArray();
            models = patterns.Length == 0 ? ModelMatcher.None : new ModelMatcher(patterns);
        }
        string? team = null;
        (LimitRule? Limit, PromptTransforms.PromptPolicy? Prompts, Usage.Budget? Budget) teamSettings = default;
        if (_options.TeamClaim is { } teamClaim && claims.FindFirst(teamClaim)?.Value is { } claimed && _teams.TryGetValue(claimed, out teamSettings))
        {
            // Only configured teams: a claim value must not become a metric label or telemetry tag unchecked.
            team = claimed;
        }
        var caller = team is null && subject is null && ReferenceEquals(models, ModelMatcher.All)
            ? _defaultCaller
            : new GatewayCaller(_options.Name, team, models, null, teamSettings.Limit, teamSettings.Prompts,
                cacheIdentity: subject is null ? null : _options.Name + "#" + GatewayKeyAuthenticator.Sha256Hex(subject)[..32],
                teamBudget: teamSettings.Budget);
        return (caller, subject, null);
    }

    private static bool CheckLifetime(DateTime? notBefore, DateTime? expires, TimeSpan skew, TimeProvider time)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (expires is null) throw new SecurityTokenNoExpirationException("no exp");
        if (notBefore is { } start && start > now + skew) throw new SecurityTokenNotYetValidException("nbf in the future") { NotBefore = start };
        if (expires.Value < now - skew) throw new SecurityTokenExpiredException("exp in the past") { Expires = expires.Value };
        return true;
    }

    private static IEnumerable<string> Values(ClaimsIdentity identity, string type) =>
        identity.FindAll(type).SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>Why validation failed, in words safe to send: never the token or its claims.</summary>
    internal static string Describe(Exception? error) => error switch
    {
        SecurityTokenExpiredException => "The token has expired.",
        SecurityTokenNotYetValidException => "The token is not valid yet (nbf).",
        SecurityTokenNoExpirationException => "The token has no expiry (exp).",
        SecurityTokenInvalidAudienceException => "The token's audience is not accepted.",
        SecurityTokenInvalidIssuerException => "The token's issuer is not accepted.",
        SecurityTokenInvalidAlgorithmException => "The token's signing algorithm is not accepted.",
        SecurityTokenSignatureKeyNotFoundException => "The token's signing key is not known.",
        SecurityTokenInvalidSignatureException => "The token's signature is invalid.",
        SecurityTokenMalformedException => "The token is malformed.",
        _ => "The token is invalid.",
    };

    /// <summary>Reads a bare JWKS document (<c>jwksUri</c>) into a configuration holding only signing keys.</summary>
    private sealed class JwksRetriever : IConfigurationRetriever<OpenIdConnectConfiguration>
    {
        public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
        {
            var document = await retriever.GetDocumentAsync(address, cancel);
            var set = new JsonWebKeySet(document) { SkipUnresolvedJsonWebKeys = true };
            var configuration = new OpenIdConnectConfiguration { JsonWebKeySet = set };
            foreach (var key in set.GetSigningKeys()) configuration.SigningKeys.Add(key);
            return configuration;
        }
    }
}
