using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using System.Text;
using AiGateway.Configuration;
using AiGateway.Pipeline;
using AiGateway.Protocol;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace AiGateway.Auth;

/// <summary>
/// Authenticates gateway keys sent as <c>Authorization: Bearer KEY</c> or <c>api-key: KEY</c> (and, on
/// the Anthropic surface, <c>x-api-key: KEY</c> as Anthropic SDKs send it: <c>/v1/messages*</c>, and
/// <c>/v1/models*</c> with <c>anthropic-version</c>) by looking up their SHA-256 in the current config.
/// Keys are never stored or compared in clear.
/// </summary>
internal sealed class GatewayKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    GatewayConfigStore configStore,
    DevelopmentKey developmentKey)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "GatewayKey";

    private const string FailureItem = "aigw.auth.failure";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var config = configStore.Current;
        var anthropic = ApiSurfaces.Of(Request) == ApiSurface.Anthropic;
        var presented = ReadCredential(Request.Headers, acceptXApiKey: anthropic);
        if (presented is null)
        {
            if (config.AllowAnonymous)
            {
                return Task.FromResult(Success(GatewayCaller.Anonymous));
            }
            Context.Items[FailureItem] = anthropic
                ? "You didn't provide an API key. Send it as 'x-api-key: YOUR_KEY' or 'Authorization: Bearer YOUR_KEY'."
                : "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY' or 'api-key: YOUR_KEY'.";
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var hash = Sha256Hex(presented);
        if (config.KeysBySha256.TryGetValue(hash, out var key))
        {
            return Task.FromResult(Success(key.Caller));
        }
        if (config.KeysBySha256.Count == 0 && developmentKey.Matches(hash))
        {
            return Task.FromResult(Success(new GatewayCaller(DevelopmentKey.Name, null, ModelMatcher.All)));
        }

        Context.Items[FailureItem] = "Incorrect API key provided.";
        return Task.FromResult(AuthenticateResult.Fail("invalid key"));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var message = Context.Items[FailureItem] as string ?? "Incorrect API key provided.";
        Response.Headers.WWWAuthenticate = "Bearer";
        return OpenAiError.WriteAsync(Context, StatusCodes.Status401Unauthorized, message, OpenAiError.InvalidRequest, null, "invalid_api_key");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        OpenAiError.WriteAsync(Context, StatusCodes.Status403Forbidden, "You are not allowed to perform this request.", OpenAiError.Permission);

    private AuthenticateResult Success(GatewayCaller caller)
    {
        Context.SetCaller(caller);
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, caller.Name)], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

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
}

/// <summary>Header names the gateway consumes itself and never forwards.</summary>
internal static class CredentialHeaders
{
    public static readonly string[] Client = [HeaderNames.Authorization, "api-key", "x-api-key", HeaderNames.Cookie, HeaderNames.ProxyAuthorization];
}
