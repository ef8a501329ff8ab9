using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AiGateway.Tokens;

/// <summary>Warms the <see cref="TokenizerRegistry"/> during host start-up, before the server accepts requests.</summary>
internal sealed partial class TokenizerWarmupService(
    TokenizerRegistry registry,
    TimeProvider timeProvider,
    ILogger<TokenizerWarmupService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        long started = timeProvider.GetTimestamp();
        registry.Warm();
        LogWarmedUp(logger, timeProvider.GetElapsedTime(started).TotalMilliseconds);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Tokenizers warmed up in {ElapsedMilliseconds:F0} ms")]
    private static partial void LogWarmedUp(ILogger logger, double elapsedMilliseconds);
}
