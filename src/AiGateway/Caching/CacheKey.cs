using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using AiGateway.Protocol;

namespace AiGateway.Caching;

/// <summary>What the cache needs to know about a request body, read in the same pass that computes its key.</summary>
internal readonly record struct CacheableRequest(string Key, bool Deterministic, bool WantsLogprobs);

/// <summary>
/// The cache key: SHA-256 over the partition, the operation, the resolved public model and the request
/// body in canonical form (members sorted, no insignificant whitespace, strings and numbers in one
/// spelling). Members that change the transport or name the end user, not the answer, are left out.
/// </summary>
internal static class CacheKey
{
    private const string Version = "aigw-cache-v1";

    /// <summary>Members that never change the answer: how it is delivered, and who the end user is. <c>model</c> is hashed as resolved.</summary>
    private static bool IsIgnored(string name) => name is "model" or "stream" or "stream_options" or "user";

    private static readonly JsonWriterOptions CanonicalWriter = new() { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    /// <summary>Reads <paramref name="body"/>; false when it is not a JSON object (the upstream will say why).</summary>
    public static bool TryRead(ReadOnlyMemory<byte> body, AiOperation operation, string partition, string model, out CacheableRequest request)
    {
        request = default;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 128 });
        }
        catch (JsonException)
        {
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            var buffer = new ArrayBufferWriter<byte>(body.Length + 128);
            using (var writer = new Utf8JsonWriter(buffer, CanonicalWriter))
            {
                writer.WriteStartArray();
                writer.WriteStringValue(Version);
                writer.WriteStringValue(partition);
                writer.WriteStringValue(operation.ToString());
                writer.WriteStringValue(model);
                WriteObject(writer, root, topLevel: true);
                writer.WriteEndArray();
            }

            var key = Convert.ToHexStringLower(SHA256.HashData(buffer.WrittenSpan));
            request = new CacheableRequest(key, IsDeterministic(root, operation), WantsLogprobs(root));
            return true;
        }
    }

    /// <summary>The partition of a caller under a scope: never shared across tenants unless the scope says so.</summary>
    public static string Partition(CacheScope scope, string keyName, string? team) => scope switch
    {
        CacheScope.Shared => "shared",
        CacheScope.Team when team is not null => "team:" + team,
        _ => "key:" + keyName,
    };

    /// <summary>Sampling that gives the same answer again: <c>temperature</c> 0 or a <c>seed</c>. Embeddings always do.</summary>
    private static bool IsDeterministic(JsonElement root, AiOperation operation)
    {
        if (operation == AiOperation.Embeddings)
        {
            return true;
        }
        if (root.TryGetProperty("seed", out var seed) && seed.ValueKind == JsonValueKind.Number)
        {
            return true;
        }
        return root.TryGetProperty("temperature", out var temperature) && temperature.ValueKind == JsonValueKind.Number
            && temperature.TryGetDouble(out var value) && value == 0;
    }

    /// <summary>Log probabilities arrive per chunk and are not reassembled from a stream, so such requests are not cached.</summary>
    private static bool WantsLogprobs(JsonElement root) =>
        root.TryGetProperty("logprobs", out var logprobs) && logprobs.ValueKind is JsonValueKind.True or JsonValueKind.Number
        || root.TryGetProperty("top_logprobs", out var top) && top.ValueKind == JsonValueKind.Number;

    private static void WriteObject(Utf8JsonWriter writer, JsonElement element, bool topLevel)
    {
        var members = new List<JsonProperty>();
        foreach (var property in element.EnumerateObject())
        {
            if (topLevel && IsIgnored(property.Name)) continue;
            members.Add(property);
        }
        // Stable: duplicate names keep their order, so they hash as sent.
        var sorted = members.Select((p, i) => (p, i)).OrderBy(x => x.p.Name, StringComparer.Ordinal).ThenBy(x => x.i);
        writer.WriteStartObject();
        foreach (var (property, _) in sorted)
        {
            writer.WritePropertyName(property.Name);
            WriteValue(writer, property.Value);
        }
        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(writer, element, topLevel: false);
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray()) WriteValue(writer, item);
                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            case JsonValueKind.Number:
                WriteNumber(writer, element);
                break;
            case JsonValueKind.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonValueKind.False:
                writer.WriteBooleanValue(false);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    /// <summary>One spelling per value: <c>0</c>, <c>0.0</c> and <c>0e0</c> hash alike; integers keep every digit.</summary>
    private static void WriteNumber(Utf8JsonWriter writer, JsonElement element)
    {
        if (element.TryGetInt64(out var integer))
        {
            writer.WriteNumberValue(integer);
        }
        else if (element.TryGetDecimal(out var number))
        {
            // Dividing by 1.000… drops trailing zeros of the scale, so 0.50 and 0.5 are one value.
            var normalized = number / 1.0000000000000000000000000000m;
            if (decimal.IsInteger(normalized) && normalized >= long.MinValue && normalized <= long.MaxValue)
                writer.WriteNumberValue((long)normalized);
            else
                writer.WriteNumberValue(normalized);
        }
        else
        {
            writer.WriteRawValue(element.GetRawText(), skipInputValidation: true);
        }
    }
}
