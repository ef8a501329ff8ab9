using System.Security.Claims;
using System.Text.Encodings.Web;
using AiGateway.Configuration;
using AiGateway.Pipeline;
using AiGateway.Protocol;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace AiGateway.Auth;

/// <summary>
/// The ASP.NET Core scheme for gateway keys, used by the gateway's own endpoints (<c>/v1/models</c>); the
/// lookup itself is <see cref="GatewayKeyAuthenticator"/>'s.
/// </summary>
internal sealed class GatewayKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    GatewayKeyAuthenticator authenticator)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "GatewayKey";

    private const string FailureItem = "aigw.auth.failure";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var (caller, failure) = await authenticator.AuthenticateAsync(Context);
        if (caller is not null)
        {
            Context.SetCaller(caller);
            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, caller.Name)], SchemeName);
            return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
        }
        Context.Items[FailureItem] = failure;
        // A missing credential is no result (anonymous endpoints still work); a wrong key or a rejected JWT is a failure.
        return GatewayKeyAuthenticator.IsMissingCredential(failure) ? AuthenticateResult.NoResult() : AuthenticateResult.Fail("invalid credential");
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        GatewayKeyAuthenticator.ChallengeAsync(Context, Context.Items[FailureItem] as string ?? GatewayKeyAuthenticator.IncorrectKey);

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        OpenAiError.WriteAsync(Context, StatusCodes.Status403Forbidden, "You are not allowed to perform this request.", OpenAiError.Permission);
}

/// <summary>Header names the gateway consumes itself and never forwards.</summary>
internal static class CredentialHeaders
{
    public static readonly string[] Client = [HeaderNames.Authorization, "api-key", "x-api-key", HeaderNames.Cookie, HeaderNames.ProxyAuthorization];
}
