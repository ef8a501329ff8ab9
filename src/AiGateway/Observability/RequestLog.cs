using System.Collections;
using System.Globalization;

namespace AiGateway.Observability;

/// <summary>
/// The one Information line per request (category <see cref="RequestTelemetryMiddleware.LogCategory"/>).
/// It names the key by its configured name and never carries a credential, a header or body text.
/// </summary>
/// <remarks>
/// The fields travel as structured state; the message is only a short human summary
/// (<c>POST /v1/chat/completions 200 12.5 ms</c>) rather than every field again, which kept a third of
/// each line's bytes out of the log pipeline. Fields without a value are left out of the state.
/// </remarks>
internal static class RequestLog
{
    public static readonly EventId Event = new(800, "RequestCompleted");

    public static void Completed(ILogger logger, in RequestLogEntry entry) =>
        logger.Log(LogLevel.Information, Event, entry, null, static (state, _) => state.ToString());
}

/// <summary>The fields of one request's log line, exposed to logging providers as name/value pairs.</summary>
internal readonly struct RequestLogEntry : IReadOnlyList<KeyValuePair<string, object?>>, IJsonLogState
{
    private const int FieldCount = 14;

    public required string Method { get; init; }
    public required string Route { get; init; }
    public required int Status { get; init; }
    public required double DurationMs { get; init; }
    public required string RequestId { get; init; }
    public string? KeyName { get; init; }
    public string? Model { get; init; }
    public string? Deployment { get; init; }
    public int? InputTokens { get; init; }
    public int? OutputTokens { get; init; }
    public required string Cache { get; init; }
    public required int Attempts { get; init; }
    public double? TimeToFirstTokenMs { get; init; }
    public string? ErrorType { get; init; }

    public int Count
    {
        get
        {
            var count = 0;
            for (var i = 0; i < FieldCount; i++)
            {
                if (HasValue(i)) count++;
            }
            return count;
        }
    }

    public KeyValuePair<string, object?> this[int index]
    {
        get
        {
            for (var i = 0; i < FieldCount; i++)
            {
                if (HasValue(i) && index-- == 0) return Field(i);
            }
            throw new ArgumentOutOfRangeException(nameof(index));
        }
    }

    /// <summary>Property names encoded once: the line is written on every request.</summary>
    private static class Names
    {
        public static readonly System.Text.Json.JsonEncodedText Method = System.Text.Json.JsonEncodedText.Encode(nameof(Method));
        public static readonly System.Text.Json.JsonEncodedText Route = System.Text.Json.JsonEncodedText.Encode(nameof(Route));
        public static readonly System.Text.Json.JsonEncodedText Status = System.Text.Json.JsonEncodedText.Encode(nameof(Status));
        public static readonly System.Text.Json.JsonEncodedText DurationMs = System.Text.Json.JsonEncodedText.Encode(nameof(DurationMs));
        public static readonly System.Text.Json.JsonEncodedText RequestId = System.Text.Json.JsonEncodedText.Encode(nameof(RequestId));
        public static readonly System.Text.Json.JsonEncodedText KeyName = System.Text.Json.JsonEncodedText.Encode(nameof(KeyName));
        public static readonly System.Text.Json.JsonEncodedText Model = System.Text.Json.JsonEncodedText.Encode(nameof(Model));
        public static readonly System.Text.Json.JsonEncodedText Deployment = System.Text.Json.JsonEncodedText.Encode(nameof(Deployment));
        public static readonly System.Text.Json.JsonEncodedText InputTokens = System.Text.Json.JsonEncodedText.Encode(nameof(InputTokens));
        public static readonly System.Text.Json.JsonEncodedText OutputTokens = System.Text.Json.JsonEncodedText.Encode(nameof(OutputTokens));
        public static readonly System.Text.Json.JsonEncodedText Cache = System.Text.Json.JsonEncodedText.Encode(nameof(Cache));
        public static readonly System.Text.Json.JsonEncodedText Attempts = System.Text.Json.JsonEncodedText.Encode(nameof(Attempts));
        public static readonly System.Text.Json.JsonEncodedText TimeToFirstTokenMs = System.Text.Json.JsonEncodedText.Encode(nameof(TimeToFirstTokenMs));
        public static readonly System.Text.Json.JsonEncodedText ErrorType = System.Text.Json.JsonEncodedText.Encode(nameof(ErrorType));
    }

    /// <summary>Writes the present fields straight to JSON, without boxing them (see <see cref="JsonLogFormatter"/>).</summary>
    public void WriteTo(System.Text.Json.Utf8JsonWriter writer)
    {
        writer.WriteString(Names.Method, Method);
        writer.WriteString(Names.Route, Route);
        writer.WriteNumber(Names.Status, Status);
        writer.WriteNumber(Names.DurationMs, DurationMs);
        writer.WriteString(Names.RequestId, RequestId);
        if (KeyName is not null) writer.WriteString(Names.KeyName, KeyName);
        if (Model is not null) writer.WriteString(Names.Model, Model);
        if (Deployment is not null) writer.WriteString(Names.Deployment, Deployment);
        if (InputTokens is { } input) writer.WriteNumber(Names.InputTokens, input);
        if (OutputTokens is { } output) writer.WriteNumber(Names.OutputTokens, output);
        writer.WriteString(Names.Cache, Cache);
        writer.WriteNumber(Names.Attempts, Attempts);
        if (TimeToFirstTokenMs is { } ttft) writer.WriteNumber(Names.TimeToFirstTokenMs, ttft);
        if (ErrorType is not null) writer.WriteString(Names.ErrorType, ErrorType);
    }

    private bool HasValue(int index) => index switch
    {
        5 => KeyName is not null,
        6 => Model is not null,
        7 => Deployment is not null,
        8 => InputTokens.HasValue,
        9 => OutputTokens.HasValue,
        12 => TimeToFirstTokenMs.HasValue,
        13 => ErrorType is not null,
        _ => true,
    };

    private KeyValuePair<string, object?> Field(int index) => index switch
    {
        0 => new(nameof(Method), Method),
        1 => new(nameof(Route), Route),
        2 => new(nameof(Status), Status),
        3 => new(nameof(DurationMs), DurationMs),
        4 => new(nameof(RequestId), RequestId),
        5 => new(nameof(KeyName), KeyName),
        6 => new(nameof(Model), Model),
        7 => new(nameof(Deployment), Deployment),
        8 => new(nameof(InputTokens), InputTokens),
        9 => new(nameof(OutputTokens), OutputTokens),
        10 => new(nameof(Cache), Cache),
        11 => new(nameof(Attempts), Attempts),
        12 => new(nameof(TimeToFirstTokenMs), TimeToFirstTokenMs),
        _ => new(nameof(ErrorType), ErrorType),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < FieldCount; i++)
        {
            if (HasValue(i)) yield return Field(i);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public void WriteMessage(System.Text.Json.Utf8JsonWriter writer, System.Text.Json.JsonEncodedText name)
    {
        // The same text as ToString(), formatted as UTF-8 on the stack.
        Span<byte> text = stackalloc byte[256];
        var utf8 = System.Text.Encoding.UTF8;
        if (utf8.GetMaxByteCount(Method.Length + Route.Length) <= 200)
        {
            var length = utf8.GetBytes(Method, text);
            text[length++] = (byte)' ';
            length += utf8.GetBytes(Route, text[length..]);
            text[length++] = (byte)' ';
            if (Status.TryFormat(text[length..], out var written, default, CultureInfo.InvariantCulture))
            {
                length += written;
                text[length++] = (byte)' ';
                if (DurationMs.TryFormat(text[length..], out written, default, CultureInfo.InvariantCulture) && length + written + 3 <= text.Length)
                {
                    length += written;
                    " ms"u8.CopyTo(text[length..]);
                    writer.WriteString(name, text[..(length + 3)]);
                    return;
                }
            }
        }
        writer.WriteString(name, ToString());
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Method} {Route} {Status} {DurationMs} ms");
}
