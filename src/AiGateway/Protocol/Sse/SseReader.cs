using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace AiGateway.Protocol.Sse;

/// <summary>Reads server-sent events incrementally from a pipe or a stream, one read at a time.</summary>
internal static class SseReader
{
    /// <summary>
    /// Yields each event as soon as its terminating blank line arrives. A yielded event is valid until
    /// the next <c>MoveNextAsync</c>; an incomplete event at the end of the stream is discarded (spec).
    /// </summary>
    /// <exception cref="InvalidDataException">A line or an event exceeds <paramref name="maxEventSize"/>.</exception>
    public static async IAsyncEnumerable<SseEvent> ReadEventsAsync(
        PipeReader reader,
        int maxEventSize = SseParser.DefaultMaxEventSize,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var parser = new SseParser(maxEventSize);
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            while (parser.TryReadEvent(ref buffer, out var sseEvent))
            {
                yield return sseEvent;
            }

            // The parser copied any partial line, so everything returned by this read is consumed.
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                yield break;
            }
        }
    }

    /// <inheritdoc cref="ReadEventsAsync(PipeReader, int, CancellationToken)"/>
    public static async IAsyncEnumerable<SseEvent> ReadEventsAsync(
        Stream stream,
        int maxEventSize = SseParser.DefaultMaxEventSize,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // leaveOpen: the stream belongs to the caller (typically the upstream HttpResponseMessage).
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        try
        {
            await foreach (var sseEvent in ReadEventsAsync(reader, maxEventSize, cancellationToken))
            {
                yield return sseEvent;
            }
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }
}
