namespace AiGateway.Caching;

internal static partial class CacheLog
{
    [LoggerMessage(1, LogLevel.Warning, "Response cache: Redis is unavailable during {Operation} ({ExceptionType}); serving from memory or as misses. Further failures are logged at most every {Interval}.")]
    public static partial void DistributedUnavailable(ILogger logger, string operation, string exceptionType, TimeSpan interval);

    [LoggerMessage(2, LogLevel.Information, "Response cache: Redis is available again.")]
    public static partial void DistributedRecovered(ILogger logger);

    [LoggerMessage(3, LogLevel.Warning, "Response cache lookup failed ({ExceptionType}); the request is forwarded uncached.")]
    public static partial void LookupFailed(ILogger logger, string exceptionType);

    [LoggerMessage(4, LogLevel.Warning, "Response cache write failed ({ExceptionType}); the answer was served but not stored.")]
    public static partial void StoreFailed(ILogger logger, string exceptionType);

    [LoggerMessage(5, LogLevel.Information, "Response cache purged: {Scope}.")]
    public static partial void Purged(ILogger logger, string scope);
}
