using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using AiGateway.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiGateway.FunctionalTests.Infrastructure;

/// <summary>
/// Captures every log line of one gateway exactly as its standard output would carry it, formatted by
/// the gateway's own <see cref="JsonLogFormatter"/> (standard output itself is shared by the process).
/// </summary>
internal sealed class JsonLogCapture : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    /// <summary>Registers a capture on a gateway being built; the capture is available once it started.</summary>
    public static Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder> Register(Action<JsonLogCapture> created) => builder =>
        builder.Services.AddSingleton<ILoggerProvider>(_ =>
        {
            var capture = new JsonLogCapture();
            created(capture);
            return capture;
        });

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(JsonLogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var buffer = new ArrayBufferWriter<byte>();
            JsonLogFormatter.Write(buffer, TimeProvider.System.GetUtcNow(), logLevel, category, eventId, state, exception, formatter);
            owner.Lines.Enqueue(Encoding.UTF8.GetString(buffer.WrittenSpan).TrimEnd());
        }
    }
}
