using System.Text.Json;
using BenchmarkDotNet.Attributes;

namespace AiGateway.Benchmarks;

/// <summary>Floors for the gateway's hot-path pieces, measured with the framework alone; the gateway's own
/// body scan, token counting and SSE usage extraction are in <see cref="HotPathBenchmarks"/>.</summary>
[MemoryDiagnoser]
public class BaselineBenchmarks
{
    [Benchmark(Description = "request body: JsonDocument.Parse + model")]
    public string? ParseWithDocument()
    {
        using var document = JsonDocument.Parse(Payloads.ChatRequest);
        return document.RootElement.GetProperty("model").GetString();
    }

    [Benchmark(Description = "request body: Utf8JsonReader scan for model")]
    public string? ScanWithReader()
    {
        var reader = new Utf8JsonReader(Payloads.ChatRequest);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isModel = reader.ValueTextEquals("model"u8);
            reader.Read();
            if (isModel)
            {
                return reader.GetString();
            }

            reader.Skip();
        }

        return null;
    }

    [Benchmark(Description = "SSE tail: find usage event and read total_tokens")]
    public int FindUsage()
    {
        var tail = Payloads.StreamTail.AsSpan();
        var start = tail.IndexOf("\"usage\":"u8);
        if (start < 0)
        {
            return 0;
        }

        var lineStart = tail[..start].LastIndexOf("data: "u8) + "data: ".Length;
        var lineEnd = start + tail[start..].IndexOf("\n"u8);
        using var document = JsonDocument.Parse(Payloads.StreamTail.AsMemory(lineStart, lineEnd - lineStart));
        return document.RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32();
    }
}
