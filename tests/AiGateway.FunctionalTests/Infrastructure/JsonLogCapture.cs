using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace AiGateway.FunctionalTests.Infrastructure;

/// <summary>
/// Captures every log line of one gateway exactly as its console would print it, formatted by the
/// gateway's own registered <c>json</c> console formatter (the console itself is shared by the process).
/// </summary>
internal sealed class JsonLogCapture : ILoggerProvider
{
    private readonly ConsoleFormatter _formatter;

    private JsonLogCapture(ConsoleFormatter formatter) => _formatter = formatter;

    public ConcurrentQueue<string> Lines { get; } = new();

    /// <summary>Registers a capture on a gateway being built; the capture is available once it started.</summary>
    public static Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder> Register(Action<JsonLogCapture> created) => builder =>
        builder.Services.AddSingleton<ILoggerProvider>(services =>
        {
            var capture = new JsonLogCapture(services.GetServices<ConsoleFormatter>().Single(f => f.Name == ConsoleFormatterNames.Json));
            created(capture);
            return capture;
        });

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(JsonLogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => NullLogger.Instance.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            using var writer = new StringWriter();
            owner._formatter.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, formatter), null, writer);
            owner.Lines.Enqueue(writer.ToString().TrimEnd());
        }
    }
}
