using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace AiGateway.Tokens;

/// <summary>A growable char buffer rented from <see cref="ArrayPool{T}.Shared"/>; dispose to return it.</summary>
internal sealed class PooledCharBuffer : IDisposable
{
    private char[] _chars;
    private int _length;

    public PooledCharBuffer(int initialCapacity = 256) => _chars = ArrayPool<char>.Shared.Rent(initialCapacity);

    public int Length => _length;

    public ReadOnlySpan<char> WrittenSpan => _chars.AsSpan(0, _length);

    public void Append(char c)
    {
        EnsureCapacity(1);
        _chars[_length++] = c;
    }

    public void Append(char c, int repeatCount)
    {
        EnsureCapacity(repeatCount);
        _chars.AsSpan(_length, repeatCount).Fill(c);
        _length += repeatCount;
    }

    public void Append(ReadOnlySpan<char> text)
    {
        EnsureCapacity(text.Length);
        text.CopyTo(_chars.AsSpan(_length));
        _length += text.Length;
    }

    /// <summary>Appends the unescaped value of a JSON string element.</summary>
    public void AppendJsonString(JsonElement jsonString)
    {
        ReadOnlySpan<byte> raw = JsonMarshal.GetRawUtf8Value(jsonString);
        EnsureCapacity(raw.Length);
        var reader = new Utf8JsonReader(raw);
        reader.Read();
        _length += reader.CopyString(_chars.AsSpan(_length));
    }

    /// <summary>Appends the JSON text of an element as written (numbers, literals).</summary>
    public void AppendRawJson(JsonElement element) => AppendUtf8(JsonMarshal.GetRawUtf8Value(element));

    /// <summary>Appends UTF-8 text.</summary>
    public void AppendUtf8(ReadOnlySpan<byte> utf8)
    {
        // UTF-8 never has fewer bytes than UTF-16 has chars.
        EnsureCapacity(utf8.Length);
        _length += Encoding.UTF8.GetChars(utf8, _chars.AsSpan(_length));
    }

    /// <summary>Drops the first <paramref name="count"/> chars, keeping the rest.</summary>
    public void RemoveFirst(int count)
    {
        _chars.AsSpan(count, _length - count).CopyTo(_chars);
        _length -= count;
    }

    public void Clear() => _length = 0;

    public void Dispose()
    {
        char[] chars = _chars;
        _chars = [];
        _length = 0;
        if (chars.Length > 0)
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    private void EnsureCapacity(int additional)
    {
        int required = _length + additional;
        if (required <= _chars.Length)
        {
            return;
        }

        char[] larger = ArrayPool<char>.Shared.Rent(Math.Max(required, _chars.Length * 2));
        _chars.AsSpan(0, _length).CopyTo(larger);
        char[] old = _chars;
        _chars = larger;
        if (old.Length > 0)
        {
            ArrayPool<char>.Shared.Return(old);
        }
    }
}
