namespace AiGateway.Hosting;

/// <summary>
/// Accepts a well-formed <c>x-request-id</c> from the client or makes one, uses it as the request's
/// trace identifier (so logs carry it), and returns it on every response.
/// </summary>
internal sealed class CorrelationMiddleware(RequestDelegate next, TimeProvider time)
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
            context.TraceIdentifier = NewId(time.GetUtcNow().ToUnixTimeMilliseconds());
        }
        // OnStarting, not now: error paths clear the headers before writing.
        context.Response.OnStarting(SetHeader, context);
        return next(context);
    }

    /// <summary>
    /// <c>req_</c> and 32 hex digits laid out like a UUIDv7: 48 bits of Unix milliseconds (ids sort by time),
    /// then 80 random bits. The bits come from <see cref="Random.Shared"/>, not the system's generator that
    /// <see cref="Guid.CreateVersion7()"/> reads with a system call per id: a request id is not a secret, and
    /// 80 bits keep ids unique across replicas.
    /// </summary>
    internal static string NewId(long unixMilliseconds)
    {
        Span<byte> bits = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bits, (ulong)unixMilliseconds << 16);
        Random.Shared.NextBytes(bits[6..]);
        Span<char> id = stackalloc char[36];
        "req_".CopyTo(id);
        Convert.TryToHexStringLower(bits, id[4..], out _);
        return new string(id);
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
