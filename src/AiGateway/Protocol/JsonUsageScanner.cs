using System.Buffers;
using System.Text.Json;

namespace AiGateway.Protocol;

/// <summary>
/// Finds the top-level <c>usage</c> object of a JSON response while it streams past, chunk by chunk,
/// keeping only the bytes of an unfinished token: a 30 MB embeddings response is scanned, never held.
/// </summary>
internal sealed class JsonUsageScanner : IDisposable
{
    private JsonReaderState _state = new(new JsonReaderOptions { MaxDepth = 256 });
    private byte[] _pending = ArrayPool<byte>.Shared.Rent(512);
    private int _pendingLength;
    private bool _failed;

    // Where the scan is: 0 outside usage; 1 inside usage; 2 inside usage.prompt_tokens_details.
    private int _level;
    private string? _field;
    private int _prompt, _completion, _cached;
    private bool _sawUsage;

    public TokenUsage? Usage => _sawUsage ? new TokenUsage(_prompt, _completion, Math.Min(_cached, _prompt), UsageSource.Reported) : null;

    public void Feed(ReadOnlySequence<byte> data)
    {
        foreach (var segment in data)
        {
            Feed(segment.Span);
        }
    }

    public void Feed(ReadOnlySpan<byte> data)
    {
        if (_failed || data.IsEmpty) return;

        ReadOnlySpan<byte> input;
        if (_pendingLength > 0)
        {
            Append(data);
            input = _pending.AsSpan(0, _pendingLength);
        }
        else
        {
            input = data;
        }

        var reader = new Utf8JsonReader(input, isFinalBlock: false, _state);
        try
        {
            while (reader.Read())
            {
                Observe(ref reader);
            }
        }
        catch (JsonException)
        {
            // Not JSON after all: the body is relayed untouched, only usage is unknown.
            _failed = true;
            return;
        }

        _state = reader.CurrentState;
        var rest = input[(int)reader.BytesConsumed..];
        if (_pendingLength > 0)
        {
            rest.CopyTo(_pending);
            _pendingLength = rest.Length;
        }
        else
        {
            _pendingLength = 0;
            Append(rest);
        }
    }

    private void Observe(ref Utf8JsonReader reader)
    {
        var depth = reader.CurrentDepth;
        switch (reader.TokenType)
        {
            case JsonTokenType.PropertyName when depth == 1:
                _level = reader.ValueTextEquals("usage"u8) ? -1 : 0;
                break;
            case JsonTokenType.StartObject when depth == 1 && _level == -1:
                _level = 1;
                _sawUsage = true;
                break;
            case JsonTokenType.PropertyName when depth == 2 && _level >= 1:
                _level = 1;
                _field = reader.ValueTextEquals("prompt_tokens"u8) ? "p"
                    : reader.ValueTextEquals("completion_tokens"u8) ? "c"
                    : reader.ValueTextEquals("prompt_tokens_details"u8) ? "d"
                    : null;
                break;
            case JsonTokenType.StartObject when depth == 2 && _level == 1 && _field == "d":
                _level = 2;
                break;
            case JsonTokenType.PropertyName when depth == 3 && _level == 2:
                _field = reader.ValueTextEquals("cached_tokens"u8) ? "k" : null;
                break;
            case JsonTokenType.Number when _field is not null && reader.TryGetInt32(out var value) && value >= 0:
                if (depth == 2 && _level == 1 && _field == "p") _prompt = value;
                else if (depth == 2 && _level == 1 && _field == "c") _completion = value;
                else if (depth == 3 && _level == 2 && _field == "k") _cached = value;
                _field = null;
                break;
            case JsonTokenType.EndObject when depth == 1 && _level >= 1:
                _level = 0;
                break;
        }
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_pendingLength + data.Length > _pending.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_pending.Length * 2, _pendingLength + data.Length));
            _pending.AsSpan(0, _pendingLength).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_pending);
            _pending = larger;
        }
        data.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength += data.Length;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_pending);
        _pending = [];
    }
}
