using System.Buffers;
using System.Buffers.Binary;
using System.ComponentModel;
using AiGateway.Protocol;
using Microsoft.Extensions.Caching.Hybrid;

namespace AiGateway.Caching;

/// <summary>
/// One cached answer in a provider-neutral form: the OpenAI JSON response a non-streaming client gets
/// (for an answer first seen as a stream, the completion assembled from its chunks). A streaming client
/// gets it replayed as chunks. Immutable, so the in-memory tier hands out the same instance to every hit.
/// </summary>
[ImmutableObject(true)]
internal sealed class CachedResponse
{
    public required AiOperation Operation { get; init; }

    /// <summary>The JSON body, usage included.</summary>
    public required byte[] Body { get; init; }

    public required int PromptTokens { get; init; }
    public required int CompletionTokens { get; init; }

    /// <summary>When the answer was stored, for the <c>Age</c> header.</summary>
    public required long StoredAtUnixSeconds { get; init; }
}

/// <summary>The entry's bytes in Redis: a versioned header and the JSON body, nothing reflection-based.</summary>
internal sealed class CachedResponseSerializer : IHybridCacheSerializer<CachedResponse>
{
    private const byte FormatVersion = 1;
    private const int HeaderLength = 1 + 1 + 4 + 4 + 8;

    public CachedResponse Deserialize(ReadOnlySequence<byte> source)
    {
        Span<byte> header = stackalloc byte[HeaderLength];
        if (source.Length < HeaderLength)
        {
            throw new InvalidDataException("The cached entry is truncated.");
        }
        source.Slice(0, HeaderLength).CopyTo(header);
        if (header[0] != FormatVersion || !Enum.IsDefined((AiOperation)header[1]))
        {
            throw new InvalidDataException("The cached entry has an unknown format.");
        }
        return new CachedResponse
        {
            Operation = (AiOperation)header[1],
            PromptTokens = BinaryPrimitives.ReadInt32LittleEndian(header[2..]),
            CompletionTokens = BinaryPrimitives.ReadInt32LittleEndian(header[6..]),
            StoredAtUnixSeconds = BinaryPrimitives.ReadInt64LittleEndian(header[10..]),
            Body = source.Slice(HeaderLength).ToArray(),
        };
    }

    public void Serialize(CachedResponse value, IBufferWriter<byte> target)
    {
        var header = target.GetSpan(HeaderLength);
        header[0] = FormatVersion;
        header[1] = (byte)value.Operation;
        BinaryPrimitives.WriteInt32LittleEndian(header[2..], value.PromptTokens);
        BinaryPrimitives.WriteInt32LittleEndian(header[6..], value.CompletionTokens);
        BinaryPrimitives.WriteInt64LittleEndian(header[10..], value.StoredAtUnixSeconds);
        target.Advance(HeaderLength);
        target.Write(value.Body);
    }
}
