using Microsoft.Extensions.Logging;

namespace AiGateway.RateLimiting;

internal static partial class RateLimitingLog
{
    [LoggerMessage(1, LogLevel.Warning, "Rate-limit store unavailable during {Operation}; failure mode {FailureMode}. Further failures are logged at most every {Interval}.")]
    public static partial void StoreUnavailable(ILogger logger, string operation, RateLimitFailureMode failureMode, TimeSpan interval, Exception exception);

    [LoggerMessage(2, LogLevel.Information, "Rate-limit store available again.")]
    public static partial void StoreRecovered(ILogger logger);

    [LoggerMessage(3, LogLevel.Warning, "Rate-limit compensation failed; the held counts expire with their window.")]
    public static partial void CompensationFailed(ILogger logger, Exception exception);
}
