using System.Security.Cryptography;

namespace AiGateway.Auth;

/// <summary>
/// A random key made at start-up so a first request works with zero set-up. It is only accepted while
/// the config lists no keys, and only exists in the Development environment or when
/// <c>AIGATEWAY_DEV_KEY</c> supplies one; it is printed once to the console for the person running it.
/// </summary>
internal sealed class DevelopmentKey
{
    public const string Name = "development";

    private readonly string? _sha256;

    public DevelopmentKey(string? value)
    {
        Value = value;
        _sha256 = value is null ? null : GatewayKeyAuthenticator.Sha256Hex(value);
    }

    /// <summary>The key, shown once at start-up; <c>null</c> when development keys are off.</summary>
    public string? Value { get; }

    public bool Matches(string sha256) =>
        _sha256 is not null && CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(_sha256), System.Text.Encoding.ASCII.GetBytes(sha256));

    public static string Generate() => "sk-aigw-dev-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
