using System.Buffers;
using System.Buffers.Text;

namespace AiGateway.Protocol.Sse;

/// <summary>
/// Incremental parser for the WHATWG <c>text/event-stream</c> format. Feed it whatever bytes arrived
/// (any split, including mid-CRLF or mid-UTF-8); it keeps only the current partial line and the current
/// event's fields, never the stream. Buffers are pooled; dispose to return them.
/// </summary>
/// <remarks>
/// The parser consumes every byte it is given: a partial line is copied into its own buffer, so a
/// <see cref="System.IO.Pipelines.PipeReader"/> can always be advanced to the end of what it returned
/// and a long line arriving in tiny reads is scanned once, not once per read.
/// </remarks>
internal sealed class SseParser : IDisposable
{
    /// <summary>Default cap on one line or one event's data: far above any LLM event, low enough to stop a hostile upstream.</summary>
    public const int DefaultMaxEventSize = 4 * 1024 * 1024;

    private static readonly byte[] s_defaultEventType = "message"u8.ToArray();

    private readonly int _maxEventSize;
    private byte[] _line;
    private int _lineLength;
    private byte[] _data;
    private int _dataLength;
    private byte[] _eventType;
    private int _eventTypeLength;
    private byte[] _lastEventId;
    private int _lastEventIdLength;
    // A CR ended the previous input; an LF starting the next input belongs to the same line break.
    private bool _skipLeadingLf;
    private bool _firstLineSeen;

    public SseParser(int maxEventSize = DefaultMaxEventSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEventSize, 16);
        _maxEventSize = maxEventSize;
        _line = ArrayPool<byte>.Shared.Rent(256);
        _data = ArrayPool<byte>.Shared.Rent(1024);
        _eventType = ArrayPool<byte>.Shared.Rent(32);
        _lastEventId = ArrayPool<byte>.Shared.Rent(32);
    }

    /// <summary>The reconnection time from the last valid <c>retry</c> field, in milliseconds.</summary>
    public int? ReconnectionTimeMilliseconds { get; private set; }

    /// <summary>
    /// Reads the next complete event from <paramref name="buffer"/>, slicing off what it consumed.
    /// Returns <see langword="false"/> when the buffer holds no further complete event; by then every
    /// byte has been consumed, so the caller advances its reader to the buffer's end.
    /// </summary>
    /// <exception cref="InvalidDataException">A line or an event exceeds the size cap.</exception>
    public bool TryReadEvent(ref ReadOnlySequence<byte> buffer, out SseEvent sseEvent)
    {
        while (!buffer.IsEmpty)
        {
            var dispatched = TryReadEvent(buffer.FirstSpan, out var consumed, out sseEvent);
            buffer = buffer.Slice(consumed);
            if (dispatched)
            {
                return true;
            }
        }

        sseEvent = default;
        return false;
    }

    /// <summary>
    /// Reads the next complete event from <paramref name="input"/>. <paramref name="consumed"/> is how many
    /// bytes were used; on <see langword="false"/> it is always the whole input.
    /// </summary>
    /// <exception cref="InvalidDataException">A line or an event exceeds the size cap.</exception>
    public bool TryReadEvent(ReadOnlySpan<byte> input, out int consumed, out SseEvent sseEvent)
    {
        var position = 0;
        if (_skipLeadingLf && !input.IsEmpty)
        {
            _skipLeadingLf = false;
            if (input[0] == (byte)'\n')
            {
                position = 1;
            }
        }

        while (position < input.Length)
        {
            var rest = input[position..];
            var end = rest.IndexOfAny((byte)'\r', (byte)'\n');
            if (end < 0)
            {
                Append(ref _line, ref _lineLength, rest);
                position = input.Length;
                break;
            }

            ReadOnlySpan<byte> line;
            if (_lineLength > 0)
            {
                Append(ref _line, ref _lineLength, rest[..end]);
                line = _line.AsSpan(0, _lineLength);
            }
            else
            {
                line = rest[..end];
            }

            position += end + 1;
            if (rest[end] == (byte)'\r')
            {
                if (end + 1 < rest.Length)
                {
                    if (rest[end + 1] == (byte)'\n')
                    {
                        position++;
                    }
                }
                else
                {
                    _skipLeadingLf = true;
                }
            }

            var dispatched = ProcessLine(line, out sseEvent);
            _lineLength = 0;
            if (dispatched)
            {
                consumed = position;
                return true;
            }
        }

        consumed = position;
        sseEvent = default;
        return false;
    }

    public void Dispose()
    {
        ReturnBuffer(ref _line);
        ReturnBuffer(ref _data);
        ReturnBuffer(ref _eventType);
        ReturnBuffer(ref _lastEventId);
    }

    private bool ProcessLine(ReadOnlySpan<byte> line, out SseEvent sseEvent)
    {
        if (!_firstLineSeen)
        {
            _firstLineSeen = true;
            if (line.StartsWith("\uFEFF"u8))
            {
                line = line[3..];
            }
        }

        if (line.IsEmpty)
        {
            return Dispatch(out sseEvent);
        }

        sseEvent = default;
        if (line[0] == (byte)':')
        {
            return false;
        }

        ReadOnlySpan<byte> field;
        ReadOnlySpan<byte> value;
        var colon = line.IndexOf((byte)':');
        if (colon < 0)
        {
            field = line;
            value = default;
        }
        else
        {
            field = line[..colon];
            value = line[(colon + 1)..];
            if (!value.IsEmpty && value[0] == (byte)' ')
            {
                value = value[1..];
            }
        }

        if (field.SequenceEqual("data"u8))
        {
            Append(ref _data, ref _dataLength, value);
            Append(ref _data, ref _dataLength, "\n"u8);
        }
        else if (field.SequenceEqual("event"u8))
        {
            _eventTypeLength = 0;
            Append(ref _eventType, ref _eventTypeLength, value);
        }
        else if (field.SequenceEqual("id"u8))
        {
            // The spec ignores ids containing NULL so a reconnect header can never be truncated.
            if (value.IndexOf((byte)0) < 0)
            {
                _lastEventIdLength = 0;
                Append(ref _lastEventId, ref _lastEventIdLength, value);
            }
        }
        else if (field.SequenceEqual("retry"u8))
        {
            if (!value.IsEmpty && value.IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0
                && Utf8Parser.TryParse(value, out int milliseconds, out var used) && used == value.Length)
            {
                ReconnectionTimeMilliseconds = milliseconds;
            }
        }

        return false;
    }

    private bool Dispatch(out SseEvent sseEvent)
    {
        if (_dataLength == 0)
        {
            _eventTypeLength = 0;
            sseEvent = default;
            return false;
        }

        var eventType = _eventTypeLength == 0 ? s_defaultEventType : _eventType.AsMemory(0, _eventTypeLength);
        sseEvent = new SseEvent(eventType, _data.AsMemory(0, _dataLength - 1), _lastEventId.AsMemory(0, _lastEventIdLength));
        _dataLength = 0;
        _eventTypeLength = 0;
        return true;
    }

    private void Append(ref byte[] buffer, ref int length, ReadOnlySpan<byte> value)
    {
        var required = length + value.Length;
        if (required > _maxEventSize)
        {
            throw new InvalidDataException($"Server-sent event line or data exceeds {_maxEventSize} bytes.");
        }

        if (required > buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(required, buffer.Length * 2));
            buffer.AsSpan(0, length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = larger;
        }

        value.CopyTo(buffer.AsSpan(length));
        length = required;
    }

    private static void ReturnBuffer(ref byte[] buffer)
    {
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = [];
        }
    }
}
