using AiGateway.Protocol;

namespace AiGateway.Hosting;

/// <summary>
/// The outermost guard: whatever escapes below becomes one OpenAI-shaped error with the right status,
/// never a stack trace. Malformed HTTP is the client's fault (4xx); anything else is logged as a bug.
/// </summary>
internal sealed partial class ErrorHandlingMiddleware(RequestDelegate next, ILogger<ErrorHandlingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException e)
        {
            var message = e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? "The request body is too large."
                : "The request could not be read.";
            await TryWriteAsync(context, e.StatusCode, message, e.StatusCode == 413 ? "request_too_large" : "bad_request");
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
        }
        catch (Exception e)
        {
            LogUnhandled(e.GetType().Name, context.TraceIdentifier, e);
            if (context.Response.HasStarted)
            {
                context.Abort();
                return;
            }
            await TryWriteAsync(context, 500, "The gateway failed to process the request.", "internal_error");
        }
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

    [LoggerMessage(20, LogLevel.Error, "Unhandled {ExceptionType} while serving request {RequestId}.")]
    private partial void LogUnhandled(string exceptionType, string requestId, Exception exception);
}
