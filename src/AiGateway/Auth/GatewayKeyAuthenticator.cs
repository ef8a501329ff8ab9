using AiGateway.Configuration;
using AiGateway.Pipeline;
using AiGateway.Protocol;

namespace AiGateway.Auth;

/// <summary>
/// Looks up the gateway key a request presents (<c>Authorization: Bearer KEY</c> or <c>api-key: KEY</c>; on
/// the Anthropic surface also <c>x-api-key: KEY</c>) by its SHA-256 in the current config. Keys are never
/// stored or compared in clear. Used by the ASP.NET Core scheme (<see cref="GatewayKeyAuthenticationHandler"/>)
/// for the gateway's own endpoints, and directly by the first proxy step: the proxy routes are the hot path,
/// and ASP.NET Core's authentication and authorization middleware around one key lookup cost more than the
/// lookup itself (handler resolution, results, tickets, policy evaluation) on every request.
/// </summary>
internal sealed class GatewayKeyAuthenticator(GatewayConfigStore configStore, DevelopmentKey developmentKey)
{
    public const string IncorrectKey = "Incorrect API key provided.";

    /// <summary>The caller, or null with the message a 401 should carry.</summary>
    public GatewayCaller? Authenticate(HttpContext context, out string? failure)
    {
        failure = null;
        var config = configStore.Current;
        var anthropic = ApiSurfaces.Of(context.Request) == ApiSurface.Anthropic;
        var presented = GatewayKeyAuthenticationHandler.ReadCredential(context.Request.Headers, acceptXApiKey: anthropic);
        if (presented is null)
        {
            if (config.AllowAnonymous) return GatewayCaller.Anonymous;
            failure = anthropic
                ? "You didn't provide an API key. Send it as 'x-api-key: YOUR_KEY' or 'Authorization: Bearer YOUR_KEY'."
                : "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY' or 'api-key: YOUR_KEY'.";
            return null;
        }

        var hash = GatewayKeyAuthenticationHandler.Sha256Hex(presented);
        if (config.KeysBySha256.TryGetValue(hash, out var key)) return key.Caller;
        if (config.KeysBySha256.Count == 0 && developmentKey.Matches(hash)) return DevelopmentCaller;

        failure = IncorrectKey;
        return null;
    }

    /// <summary>Authenticates the request and remembers the caller; on failure writes the 401 and returns null.</summary>
    public async ValueTask<GatewayCaller?> AuthenticateOrChallengeAsync(HttpContext context)
    {
        if (context.GetCaller() is { } known) return known;
        if (Authenticate(context, out var failure) is { } caller)
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

    private static readonly GatewayCaller DevelopmentCaller = new(DevelopmentKey.Name, null, ModelMatcher.All);
}
