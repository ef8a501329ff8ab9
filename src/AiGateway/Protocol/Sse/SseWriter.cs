using System.Buffers;

namespace AiGateway.Protocol.Sse;

/// <summary>Writes server-sent events straight into the response buffer, without intermediate strings.</summary>
internal static class SseWriter
{
    /// <summary>
    /// Writes a whole event. Line breaks inside <paramref name="data"/> (CRLF, LF or CR) become separate
    /// <c>data:</c> lines so the client reassembles the same payload with LF.
    /// </summary>
    /// <param name="writer">The destination.</param>
    /// <param name="eventType">The event name, or empty for the default <c>message</c> event.</param>
    /// <param name="data">The payload.</param>
    public static void WriteEvent(IBufferWriter<byte> writer, ReadOnlySpan<byte> eventType, ReadOnlySpan<byte> data)
    {
        WriteEventStart(writer, eventType);
        while (true)
        {
            var end = data.IndexOfAny((byte)'\r', (byte)'\n');
            if (end < 0)
            {
                writer.Write(data);
                break;
            }

            writer.Write(data[..end]);
            writer.Write("\ndata: "u8);
            var skip = data[end] == (byte)'\r' && end + 1 < data.Length && data[end + 1] == (byte)'\n' ? 2 : 1;
            data = data[(end + skip)..];
        }

        WriteEventEnd(writer);
    }

    /// <summary>
    /// Writes the optional <c>event:</c> line and the <c>data: </c> prefix. The caller then writes a
    /// payload with no CR or LF in it (compact JSON qualifies) and finishes with <see cref="WriteEventEnd"/>.
    /// This lets a <see cref="System.Text.Json.Utf8JsonWriter"/> write the payload in place.
    /// </summary>
    public static void WriteEventStart(IBufferWriter<byte> writer, ReadOnlySpan<byte> eventType)
    {
        if (!eventType.IsEmpty)
        {
            writer.Write("event: "u8);
            writer.Write(eventType);
            writer.Write("\n"u8);
        }

        writer.Write("data: "u8);
    }

    /// <summary>Ends the event started with <see cref="WriteEventStart"/>.</summary>
    public static void WriteEventEnd(IBufferWriter<byte> writer) => writer.Write("\n\n"u8);
}
