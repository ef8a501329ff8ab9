using AiGateway.Protocol;

namespace AiGateway.Hosting;

/// <summary>
/// The outermost guard: whatever escapes the request's pipeline becomes one OpenAI-shaped error with the right
/// status, never a stack trace. Malformed HTTP is the client's fault (4xx); anything else is logged as a bug.
/// Called from <see cref="Observability.RequestTelemetryMiddleware"/>'s catch rather than being a middleware of its
/// own: one async frame fewer on every request, and the request's log line and metrics see the status written here.
/// </summary>
internal sealed partial class ErrorHandler(ILogger<ErrorHandler> logger)
{
    public async Task HandleAsync(HttpContext context, Exception exception)
    {
        switch (exception)
        {
            case BadHttpRequestException e:
                var message = e.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? "The request body is too large."
                    : "The request could not be read.";
                await TryWriteAsync(context, e.StatusCode, message, e.StatusCode == 413 ? "request_too_large" : "bad_request");
                return;
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                // The client went away; there is nobody to answer.
                return;
        }

        LogUnhandled(exception.GetType().Name, context.TraceIdentifier, exception);
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }
        await TryWriteAsync(context, 500, "The gateway failed to process the request.", "internal_error");
    }

    private static async Task TryWriteAsync(HttpContext context, int status, string message, string code)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }
        context.Response.Clear();
        await OpenAiError.WriteAsync(context, status, message, OpenAiError.TypeForStatus(status), null, code);
    }

    /// <summary>Logs a failure to record a finished request (metrics, log line); the request itself is unaffected.</summary>
    public void LogRecordingFailed(HttpContext context, Exception exception) =>
        LogRecording(exception.GetType().Name, context.TraceIdentifier, exception);

    [LoggerMessage(21, LogLevel.Error, "{ExceptionType} while recording request {RequestId}.")]
    private partial void LogRecording(string exceptionType, string requestId, Exception exception);

    [LoggerMessage(20, LogLevel.Error, "Unhandled {ExceptionType} while serving request {RequestId}.")]
    private partial void LogUnhandled(string exceptionType, string requestId, Exception exception);
}
