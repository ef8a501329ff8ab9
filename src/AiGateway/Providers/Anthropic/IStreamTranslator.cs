using System.Buffers;

namespace AiGateway.Providers.Anthropic;

/// <summary>
/// Turns an upstream SSE stream into the client's SSE dialect one event at a time, so the caller can
/// flush after every event and nothing is held back. One instance per response; not thread-safe.
/// </summary>
internal interface IStreamTranslator : IDisposable
{
    /// <summary>Usage seen so far; final once <see cref="IsCompleted"/>, and the best estimate if the stream was cut.</summary>
    TranslatedUsage Usage { get; }

    /// <summary>The client has been sent its terminal event (normal end or error); later events are ignored.</summary>
    bool IsCompleted { get; }

    /// <summary>Translates one parsed upstream event, writing zero or more client events to <paramref name="output"/>.</summary>
    /// <param name="eventType">The SSE <c>event</c> field (<c>message</c> when absent).</param>
    /// <param name="data">The SSE data.</param>
    /// <param name="output">Where the client's bytes go; flush it after the call.</param>
    void TranslateEvent(ReadOnlySpan<byte> eventType, ReadOnlyMemory<byte> data, IBufferWriter<byte> output);

    /// <summary>
    /// Call when the upstream stream has ended. If the upstream stopped before its terminal event, an
    /// error event is written so the client does not mistake a truncated answer for a complete one.
    /// </summary>
    void Complete(IBufferWriter<byte> output);
}
