using System.Buffers.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace AiGateway.Protocol;

/// <summary>What the gateway needs from a request body, read in one forward pass without building a DOM.</summary>
internal readonly record struct ScannedRequest(
    string Model,
    int ModelStart,
    int ModelLength,
    bool Stream,
    bool IncludeUsage,
    int? MaxTokens,
    bool HasStreamOptions = false,
    bool HasExtension = false);

/// <summary>A client error found while scanning: always a 400 with the offending parameter named.</summary>
internal readonly record struct ScanError(string Message, string? Param);

/// <summary>
/// Scans an OpenAI request body once with <see cref="Utf8JsonReader"/>: validates that it is one JSON
/// object and records the top-level fields routing needs, plus where the <c>model</c> token sits so it
/// can be replaced by a byte splice instead of a re-serialization.
/// </summary>
internal static class RequestScanner
{
    private static ReadOnlySpan<byte> ModelProperty => "model"u8;
    private static ReadOnlySpan<byte> StreamProperty => "stream"u8;
    private static ReadOnlySpan<byte> StreamOptionsProperty => "stream_options"u8;
    private static ReadOnlySpan<byte> IncludeUsageProperty => "include_usage"u8;
    private static ReadOnlySpan<byte> MaxTokensProperty => "max_tokens"u8;
    private static ReadOnlySpan<byte> MaxCompletionTokensProperty => "max_completion_tokens"u8;
    private static ReadOnlySpan<byte> ExtensionProperty => "aigateway"u8;

    /// <summary>
    /// System.Text.Json's default depth, which every later parse of the body (token counting, prompt
    /// transforms, translation, the mock) uses: a deeper body admitted here would fail there as a 500.
    /// </summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// For <c>/v1/messages</c>: translated to a chat completion for non-Anthropic deployments, a tool's
    /// <c>input_schema</c> becomes <c>function.parameters</c>, one level deeper.
    /// </summary>
    public const int MessagesMaxDepth = MaxDepth - 1;

    private const string NotUtf8 = "We could not parse the JSON body of your request: it is not valid UTF-8.";

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    public static bool TryScan(ReadOnlySpan<byte> body, out ScannedRequest request, out ScanError error, int maxDepth = MaxDepth)
    {
        request = default;
        error = default;
        string? model = null;
        int modelStart = 0, modelLength = 0;
        bool stream = false, includeUsage = false, hasStreamOptions = false, hasExtension = false;
        int? maxTokens = null;

        // The reader checks UTF-8 only in the strings it decodes; the rest (messages, tools) would fail later
        // in token counting, translation or the upstream.
        if (!Utf8.IsValid(body))
        {
            error = new(NotUtf8, null);
            return false;
        }
        if (body.StartsWith(Utf8Bom))
        {
            error = new("We could not parse the JSON body of your request: it starts with a byte order mark.", null);
            return false;
        }
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = maxDepth });

        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = new("The request body must be a JSON object.", null);
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(ModelProperty))
                {
                    if (model is not null)
                    {
                        // Two "model" members would let the gateway authorize one model while the upstream serves another.
                        error = new("The 'model' parameter appears more than once.", "model");
                        return false;
                    }
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        error = new("The 'model' parameter must be a string.", "model");
                        return false;
                    }
                    model = reader.GetString()!;
                    modelStart = (int)reader.TokenStartIndex;
                    modelLength = (int)reader.BytesConsumed - modelStart;
                }
                else if (reader.ValueTextEquals(StreamProperty))
                {
                    reader.Read();
                    switch (reader.TokenType)
                    {
                        case JsonTokenType.True: stream = true; break;
                        case JsonTokenType.False or JsonTokenType.Null: stream = false; break;
                        default:
                            error = new("The 'stream' parameter must be a boolean.", "stream");
                            return false;
                    }
                }
                else if (reader.ValueTextEquals(StreamOptionsProperty))
                {
                    hasStreamOptions = true;
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        includeUsage = ReadIncludeUsage(ref reader, out var ok);
                        if (!ok)
                        {
                            error = new("The 'stream_options.include_usage' parameter must be a boolean.", "stream_options.include_usage");
                            return false;
                        }
                    }
                    else if (reader.TokenType != JsonTokenType.Null)
                    {
                        error = new("The 'stream_options' parameter must be an object.", "stream_options");
                        return false;
                    }
                }
                else if (reader.ValueTextEquals(MaxTokensProperty) || reader.ValueTextEquals(MaxCompletionTokensProperty))
                {
                    var param = reader.ValueTextEquals(MaxTokensProperty) ? "max_tokens" : "max_completion_tokens";
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value) && value > 0)
                    {
                        // max_completion_tokens supersedes the deprecated max_tokens when both are sent.
                        if (maxTokens is null || param == "max_completion_tokens") maxTokens = value;
                    }
                    else if (reader.TokenType != JsonTokenType.Null)
                    {
                        error = new($"The '{param}' parameter must be a positive integer.", param);
                        return false;
                    }
                }
                else
                {
                    // The gateway's own extension field must never reach an upstream, so its presence is noted.
                    hasExtension |= reader.ValueTextEquals(ExtensionProperty);
                    reader.Read();
                    reader.Skip();
                }
            }

            // Reading on past the closing brace rejects trailing content.
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                error = new("The request body must be a single JSON object.", null);
                return false;
            }
            if (HasLoneSurrogateEscape(body))
            {
                error = new(@"We could not parse the JSON body of your request: a \u escape is half of a UTF-16 surrogate pair.", null);
                return false;
            }
        }
        catch (JsonException) when (reader.CurrentDepth >= maxDepth - 1)
        {
            // The reader stops on the token before the one that would go too deep: an array's first element
            // (one level up from the container) or an object's property name.
            error = new($"The JSON body of your request is nested more than {maxDepth} levels deep.", null);
            return false;
        }
        catch (JsonException e)
        {
            error = new($"We could not parse the JSON body of your request: {Describe(e)}", null);
            return false;
        }
        catch (InvalidOperationException)
        {
            // GetString on a string that is not valid UTF-8.
            error = new(NotUtf8, null);
            return false;
        }

        if (model is null)
        {
            error = new("You must provide a model parameter.", "model");
            return false;
        }
        if (model.Length == 0)
        {
            error = new("The 'model' parameter must not be empty.", "model");
            return false;
        }

        request = new ScannedRequest(model, modelStart, modelLength, stream, includeUsage, maxTokens, hasStreamOptions, hasExtension);
        return true;
    }

    private static bool ReadIncludeUsage(ref Utf8JsonReader reader, out bool ok)
    {
        ok = true;
        var include = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isIncludeUsage = reader.ValueTextEquals(IncludeUsageProperty);
            reader.Read();
            if (isIncludeUsage)
            {
                if (reader.TokenType is JsonTokenType.True) include = true;
                else if (reader.TokenType is not (JsonTokenType.False or JsonTokenType.Null)) ok = false;
            }
            else
            {
                reader.Skip();
            }
        }
        return include;
    }

    /// <summary>
    /// Whether a <c>\u</c> escape encodes a lone surrogate, which no parser can turn into a string. Valid
    /// JSON has backslashes only inside strings, each one starting an escape, so one pass over the bytes
    /// finds them without tracking tokens.
    /// </summary>
    private static bool HasLoneSurrogateEscape(ReadOnlySpan<byte> json)
    {
        var i = 0;
        while (true)
        {
            var next = json[i..].IndexOf((byte)'\\');
            if (next < 0) return false;
            i += next;
            if (json[i + 1] != (byte)'u')
            {
                i += 2;
                continue;
            }
            var unit = Utf16Unit(json, i);
            i += 6;
            if (unit is >= 0xDC00 and <= 0xDFFF) return true;
            if (unit is >= 0xD800 and <= 0xDBFF)
            {
                if (i + 6 > json.Length || json[i] != (byte)'\\' || json[i + 1] != (byte)'u') return true;
                if (Utf16Unit(json, i) is < 0xDC00 or > 0xDFFF) return true;
                i += 6;
            }
        }
    }

    /// <summary>The code unit of the <c>\uXXXX</c> escape at <paramref name="start"/>, whose hex digits the reader has checked.</summary>
    private static int Utf16Unit(ReadOnlySpan<byte> json, int start)
    {
        Utf8Parser.TryParse(json.Slice(start + 2, 4), out ushort unit, out _, 'X');
        return unit;
    }

    // JsonException messages name a line and byte position, never the payload itself; keep just that part.
    private static string Describe(JsonException e) =>
        e.LineNumber is { } line ? $"invalid JSON at line {line + 1}, position {e.BytePositionInLine + 1}." : "invalid JSON.";
}
