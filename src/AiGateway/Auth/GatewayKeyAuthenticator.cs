using System.Security.Cryptography;
using System.Text;
using AiGateway.Configuration;
using AiGateway.Pipeline;
using AiGateway.Protocol;

namespace AiGateway.Auth;

/// <summary>
/// Looks up the gateway key a request presents (<c>Authorization: Bearer KEY</c> or <c>api-key: KEY</c>; on
/// the Anthropic surface also <c>x-api-key: KEY</c>) by its SHA-256 in the current config. The config holds
/// hashes only; a key that verified is remembered in memory for the config snapshot's life
/// (<see cref="VerifiedKeyCache"/>: fixed-time compare, bounded, never logged or persisted). Used by the ASP.NET Core scheme (<see cref="GatewayKeyAuthenticationHandler"/>)
/// for the gateway's own endpoints, and directly by the first proxy step: the proxy routes are the hot path,
/// and ASP.NET Core's authentication and authorization middleware around one key lookup cost more than the
/// lookup itself (handler resolution, results, tickets, policy evaluation) on every request.
/// When <c>auth.jwt</c> is configured, a credential shaped like a JWT is validated as one instead; every
/// other credential takes the key path unchanged.
/// </summary>
internal sealed partial class GatewayKeyAuthenticator(GatewayConfigStore configStore, DevelopmentKey developmentKey, ILogger<GatewayKeyAuthenticator> logger)
{
    public const string IncorrectKey = "Incorrect API key provided.";

    private const string MissingKeyPrefix = "You didn't provide an API key.";

    /// <summary>Whether a failure message means no credential was sent at all (rather than a wrong one).</summary>
    public static bool IsMissingCredential(string? failure) => failure is null || failure.StartsWith(MissingKeyPrefix, StringComparison.Ordinal);

    /// <summary>The caller, or null with the message a 401 should carry.</summary>
    public ValueTask<(GatewayCaller? Caller, string? Failure)> AuthenticateAsync(HttpContext context)
    {
        var config = configStore.Current;
        var anthropic = ApiSurfaces.Of(context.Request) == ApiSurface.Anthropic;
        var presented = ReadCredential(context.Request.Headers, acceptXApiKey: anthropic);
        if (presented is not null && config.Jwt is { } jwt && JwtValidator.LooksLikeJwt(presented))
        {
            return AuthenticateJwtAsync(jwt, presented, context.RequestAborted);
        }
        var caller = AuthenticateKey(config, presented, anthropic, out var failure);
        return new ValueTask<(GatewayCaller?, string?)>((caller, failure));
    }

    private async ValueTask<(GatewayCaller?, string?)> AuthenticateJwtAsync(JwtValidator jwt, string token, CancellationToken cancellationToken)
    {
        var (caller, subject, failure) = await jwt.ValidateAsync(token, cancellationToken);
        if (caller is null)
        {
            LogJwtRejected(logger, failure!);
            return (null, failure);
        }
        LogJwtAccepted(logger, caller.Name, subject ?? "(none)");
        return (caller, null);
    }

    private GatewayCaller? AuthenticateKey(GatewayConfig config, string? presented, bool anthropic, out string? failure)
    {
        failure = null;
        if (presented is null)
        {
            if (config.AllowAnonymous) return GatewayCaller.Anonymous;
            failure = anthropic
                ? MissingKeyPrefix + " Send it as 'x-api-key: YOUR_KEY' or 'Authorization: Bearer YOUR_KEY'."
                : MissingKeyPrefix + " Send it as 'Authorization: Bearer YOUR_KEY' or 'api-key: YOUR_KEY'.";
            return null;
        }

        if (config.VerifiedKeys.Find(presented) is { } verified) return verified;
        var hash = Sha256Hex(presented);
        if (config.KeysBySha256.TryGetValue(hash, out var key))
        {
            config.VerifiedKeys.Add(presented, key.Caller);
            return key.Caller;
        }
        if (config.KeysBySha256.Count == 0 && developmentKey.Matches(hash)) return DevelopmentCaller;

        failure = IncorrectKey;
        return null;
    }

    /// <summary>Authenticates the request and remembers the caller; on failure writes the 401 and returns null.</summary>
    public async ValueTask<GatewayCaller?> AuthenticateOrChallengeAsync(HttpContext context)
    {
        if (context.GetCaller() is { } known) return known;
        var (caller, failure) = await AuthenticateAsync(context);
        if (caller is not null)
        {
            context.SetCaller(caller);
            return caller;
        }
        await ChallengeAsync(context, failure ?? IncorrectKey);
        return null;
    }

    /// <summary>The 401 every key failure gets, in the request's API shape.</summary>
    public static Task ChallengeAsync(HttpContext context, string message)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return OpenAiError.WriteAsync(context, StatusCodes.Status401Unauthorized, message, OpenAiError.InvalidRequest, null, "invalid_api_key");
    }

    // The subject goes to logs only; metrics and tags see the configured identity name.
    [LoggerMessage(EventId = 110, Level = LogLevel.Debug, Message = "JWT accepted for identity {Identity}, subject {Subject}")]
    private static partial void LogJwtAccepted(ILogger logger, string identity, string subject);

    [LoggerMessage(EventId = 111, Level = LogLevel.Information, Message = "JWT rejected: {Reason}")]
    private static partial void LogJwtRejected(ILogger logger, string reason);

    internal static string? ReadCredential(IHeaderDictionary headers, bool acceptXApiKey = false)
    {
        var authorization = headers.Authorization;
        if (authorization.Count > 0)
        {
            var value = authorization.ToString();
            if (value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                var token = value.AsSpan(7).Trim();
                return token.IsEmpty ? null : token.ToString();
            }
        }
        var apiKey = headers["api-key"];
        if (apiKey.Count == 1 && !string.IsNullOrWhiteSpace(apiKey[0]))
        {
            return apiKey[0]!.Trim();
        }
        var xApiKey = headers["x-api-key"];
        if (acceptXApiKey && xApiKey.Count == 1 && !string.IsNullOrWhiteSpace(xApiKey[0]))
        {
            return xApiKey[0]!.Trim();
        }
        return null;
    }

    internal static string Sha256Hex(string value)
    {
        Span<byte> hash = stackalloc byte[32];
        var maxBytes = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (maxBytes <= 512)
        {
            Span<byte> utf8 = stackalloc byte[maxBytes];
            var written = Encoding.UTF8.GetBytes(value, utf8);
            SHA256.HashData(utf8[..written], hash);
        }
        else
        {
            SHA256.HashData(Encoding.UTF8.GetBytes(value), hash);
        }
        return Convert.ToHexStringLower(hash);
    }

    private static readonly GatewayCaller DevelopmentCaller = new(DevelopmentKey.Name, null, ModelMatcher.All);
}
