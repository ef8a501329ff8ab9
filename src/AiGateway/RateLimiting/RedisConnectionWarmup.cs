namespace AiGateway.RateLimiting;

/// <summary>Starts the rate limiter's Redis connection with the host, without delaying start-up or failing it when Redis is down.</summary>
internal sealed class RedisConnectionWarmup(RedisConnection connection) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        connection.StartConnecting();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
