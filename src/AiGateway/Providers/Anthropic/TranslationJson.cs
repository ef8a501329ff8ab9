using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AiGateway.Providers.Anthropic;

/// <summary>JSON plumbing shared by the translators.</summary>
/// <remarks>
/// The translators walk a <see cref="JsonDocument"/> and write with <see cref="Utf8JsonWriter"/> instead of
/// binding to DTOs: tool schemas and tool inputs are arbitrary JSON that must cross unchanged, and
/// fields we do not map are dropped by construction rather than by a serializer setting.
/// </remarks>
internal static class TranslationJson
{
    /// <summary>
    /// Bodies go to API clients, not HTML, so only JSON-mandatory escaping is applied; this keeps
    /// non-ASCII text and base64 ('+', '/') byte-identical to what the model or client sent.
    /// </summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static bool TryParse(ReadOnlyMemory<byte> utf8Json, [NotNullWhen(true)] out JsonDocument? document)
    {
        try
        {
            document = JsonDocument.Parse(utf8Json);
            return true;
        }
        catch (JsonException)
        {
            // Malformed input is a client (or upstream) error to report, not a crash; this is off the hot path.
            document = null;
            return false;
        }
    }

    /// <summary>
    /// Gets a property that is present and not JSON <c>null</c> (OpenAI treats both alike); false, rather
    /// than an exception, when <paramref name="element"/> is not an object, since payloads are untrusted.
    /// </summary>
    public static bool TryGetValue(this JsonElement element, string name, out JsonElement value)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            value = default;
            return false;
        }

        return element.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;
    }

    /// <summary>Writes <paramref name="value"/> as compact JSON text inside a JSON string, as OpenAI carries tool arguments.</summary>
    public static void WriteAsJsonString(Utf8JsonWriter writer, JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var inner = new Utf8JsonWriter(buffer, WriterOptions))
        {
            value.WriteTo(inner);
        }

        writer.WriteStringValue(buffer.WrittenSpan);
    }

    /// <summary>Writes a string property's value, or "" when the upstream left it out: ids and names are never null on the wire.</summary>
    public static void WriteStringOrEmpty(Utf8JsonWriter writer, JsonElement element, string name)
    {
        if (element.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.String)
        {
            value.WriteTo(writer);
        }
        else
        {
            writer.WriteStringValue(""u8);
        }
    }
}
