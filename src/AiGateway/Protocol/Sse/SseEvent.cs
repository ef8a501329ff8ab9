namespace AiGateway.Protocol.Sse;

/// <summary>
/// One dispatched server-sent event. The memory belongs to the <see cref="SseParser"/> that produced it
/// and stays valid only until that parser is called again, so consumers translate or copy it first.
/// </summary>
internal readonly struct SseEvent
{
    internal SseEvent(ReadOnlyMemory<byte> eventType, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> lastEventId)
    {
        EventType = eventType;
        Data = data;
        LastEventId = lastEventId;
    }

    /// <summary>The <c>event</c> field, or <c>message</c> when the event had none (WHATWG default).</summary>
    public ReadOnlyMemory<byte> EventType { get; }

    /// <summary>All <c>data</c> lines joined with LF, without the final LF.</summary>
    public ReadOnlyMemory<byte> Data { get; }

    /// <summary>The last event ID seen so far on the stream (it persists across events, per spec).</summary>
    public ReadOnlyMemory<byte> LastEventId { get; }
}
