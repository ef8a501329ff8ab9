namespace AiGateway.Hosting;

/// <summary>
/// Accepts a well-formed <c>x-request-id</c> from the client or makes one, uses it as the request's
/// trace identifier (so logs carry it), and returns it on every response.
/// </summary>
internal sealed class CorrelationMiddleware(RequestDelegate next)
{
    public const string Header = "x-request-id";

    private static readonly Func<object, Task> SetHeader = state =>
    {
        var context = (HttpContext)state;
        context.Response.Headers[Header] = context.TraceIdentifier;
        return Task.CompletedTask;
    };

    public Task InvokeAsync(HttpContext context)
    {
        var incoming = context.Request.Headers[Header];
        if (incoming.Count == 1 && IsValid(incoming[0]))
        {
            context.TraceIdentifier = incoming[0]!;
        }
        else
        {
            context.TraceIdentifier = "req_" + Guid.CreateVersion7().ToString("N");
        }
        // OnStarting, not now: error paths clear the headers before writing.
        context.Response.OnStarting(SetHeader, context);
        return next(context);
    }

    /// <summary>1 to 128 characters of letters, digits and <c>-_.:</c>, so the id is safe in headers and logs.</summary>
    internal static bool IsValid(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > 128) return false;
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')) return false;
        }
        return true;
    }
}
