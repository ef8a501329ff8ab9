using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;

namespace FakeUpstream;

/// <summary>The few request fields the fake upstream needs, read with one forward pass.</summary>
internal readonly record struct RequestScan(string Model, bool Stream, bool IncludeUsage, int Inputs, long BodyBytes)
{
    private const int MaxBody = 4 * 1024 * 1024;

    /// <summary>Reads the whole body from <paramref name="reader"/>; null when it is not JSON or too large.</summary>
    public static async ValueTask<RequestScan?> ReadAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length > MaxBody)
            {
                reader.AdvanceTo(buffer.End);
                return null;
            }

            if (result.IsCompleted)
            {
                var scan = Scan(buffer);
                reader.AdvanceTo(buffer.End);
                return scan;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static RequestScan? Scan(ReadOnlySequence<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        var model = "";
        var stream = false;
        var includeUsage = false;
        var inputs = 0;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    model = reader.TokenType == JsonTokenType.String ? reader.GetString() ?? "" : "";
                }
                else if (reader.ValueTextEquals("stream"u8))
                {
                    reader.Read();
                    stream = reader.TokenType == JsonTokenType.True;
                }
                else if (reader.ValueTextEquals("stream_options"u8))
                {
                    reader.Read();
                    includeUsage = ReadIncludeUsage(ref reader);
                }
                else if (reader.ValueTextEquals("input"u8))
                {
                    reader.Read();
                    inputs = CountInputs(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }

        return new RequestScan(model, stream, includeUsage, inputs, body.Length);
    }

    private static bool ReadIncludeUsage(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return false;
        }

        var includeUsage = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isIncludeUsage = reader.ValueTextEquals("include_usage"u8);
            reader.Read();
            if (isIncludeUsage)
            {
                includeUsage = reader.TokenType == JsonTokenType.True;
            }

            reader.Skip();
        }

        return includeUsage;
    }

    private static int CountInputs(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return 1;
        }

        // A flat array of token ids is one input; an array of strings or of arrays is one input each.
        var count = 0;
        var tokenIds = false;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            tokenIds |= reader.TokenType == JsonTokenType.Number;
            count++;
            reader.Skip();
        }

        return tokenIds ? 1 : count;
    }
}
