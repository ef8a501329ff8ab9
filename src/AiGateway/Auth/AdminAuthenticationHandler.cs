using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using AiGateway.Protocol;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace AiGateway.Auth;

/// <summary>
/// Guards <c>/admin/*</c> with the admin credential from <c>AIGATEWAY_ADMIN_KEY</c>. Gateway keys never
/// pass here: this scheme knows only the admin key. Without one configured, the admin API is closed.
/// </summary>
internal sealed class AdminAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IConfiguration configuration)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Admin";
    public const string ConfigKey = "AIGATEWAY_ADMIN_KEY";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var expected = configuration[ConfigKey];
        var presented = GatewayKeyAuthenticator.ReadCredential(Request.Headers);
        if (string.IsNullOrEmpty(expected) || presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        // Compare hashes so the comparison takes the same time whatever the lengths.
        var equal = CryptographicOperations.FixedTimeEquals(
            Convert.FromHexString(GatewayKeyAuthenticator.Sha256Hex(expected)),
            Convert.FromHexString(GatewayKeyAuthenticator.Sha256Hex(presented)));
        if (!equal)
        {
            return Task.FromResult(AuthenticateResult.Fail("invalid admin key"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin"), new Claim(ClaimTypes.Role, "admin")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var message = string.IsNullOrEmpty(configuration[ConfigKey])
            ? "The admin API is disabled: set AIGATEWAY_ADMIN_KEY to enable it."
            : "A valid admin key is required.";
        return OpenAiError.WriteAsync(Context, StatusCodes.Status401Unauthorized, message, OpenAiError.InvalidRequest, null, "invalid_api_key");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        OpenAiError.WriteAsync(Context, StatusCodes.Status403Forbidden, "You are not allowed to perform this request.", OpenAiError.Permission);
}
