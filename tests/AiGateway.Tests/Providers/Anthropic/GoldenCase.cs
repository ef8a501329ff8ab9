using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AiGateway.Protocol.Sse;
using AiGateway.Providers.Anthropic;

namespace AiGateway.Tests.Providers.Anthropic;

/// <summary>
/// One folder under Fixtures/anthropic/&lt;direction&gt;/. Each pair of files present is checked:
/// request.json → upstream-request.json (or request-error.json), upstream-response.json → response.json,
/// upstream-stream.txt → response.txt, upstream-error.json → error.json. case.json holds the knobs.
/// JSON files are compared after compaction (so they can be reviewed indented); .txt files byte for byte.
/// Set AIGATEWAY_WRITE_GOLDEN=1 to write missing expected files from the current output, then review them.
/// </summary>
internal sealed class GoldenCase
{
    private static readonly JsonWriterOptions s_compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions s_indented = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true };

    private readonly string _outputDirectory;
    private readonly string _sourceDirectory;

    private GoldenCase(string direction, string name, string sourceDirectory)
    {
        _outputDirectory = Path.Combine(AppContext.BaseDirectory, "Fixtures", "anthropic", direction, name);
        _sourceDirectory = Path.Combine(sourceDirectory, direction, name);
        var settings = Path.Combine(_outputDirectory, "case.json");
        Settings = File.Exists(settings) ? JsonDocument.Parse(File.ReadAllBytes(settings)).RootElement.Clone() : JsonDocument.Parse("{}").RootElement.Clone();
    }

    public JsonElement Settings { get; }

    public string UpstreamModel => Setting("upstreamModel", "claude-sonnet-4-5-20250929");

    public string PublicModel => Setting("publicModel", "claude-sonnet");

    public int DefaultMaxTokens => Settings.TryGetProperty("defaultMaxTokens", out var value) ? value.GetInt32() : 4096;

    public int Checks { get; private set; }

    public static TheoryData<string> Names(string direction)
    {
        var root = Path.Combine(AppContext.BaseDirectory, "Fixtures", "anthropic", direction);
        var data = new TheoryData<string>();
        foreach (var directory in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(directory));
        }

        return data;
    }

    public static GoldenCase Load(string direction, string name, [CallerFilePath] string callerPath = "") =>
        new(direction, name, Path.GetFullPath(Path.Combine(Path.GetDirectoryName(callerPath)!, "..", "..", "Fixtures", "anthropic")));

    public bool Has(string file) => File.Exists(Path.Combine(_outputDirectory, file));

    public byte[] Read(string file) => File.ReadAllBytes(Path.Combine(_outputDirectory, file));

    public string Setting(string name, string fallback) => Settings.TryGetProperty(name, out var value) ? value.GetString()! : fallback;

    /// <summary>Created timestamps come from a TimeProvider in the pipeline; the fixture pins the instant.</summary>
    public long Created(TimeProvider time) => time.GetUtcNow().ToUnixTimeSeconds();

    public void AssertJson(string expectedFile, ReadOnlySpan<byte> actual)
    {
        Checks++;
        var path = Path.Combine(_outputDirectory, expectedFile);
        if (!File.Exists(path) && WriteGolden(expectedFile, Reformat(actual, s_indented)))
        {
            return;
        }

        Assert.Equal(Encoding.UTF8.GetString(Reformat(File.ReadAllBytes(path), s_compact)), Encoding.UTF8.GetString(actual));
    }

    public void AssertText(string expectedFile, string actual)
    {
        Checks++;
        var path = Path.Combine(_outputDirectory, expectedFile);
        if (!File.Exists(path) && WriteGolden(expectedFile, Encoding.UTF8.GetBytes(actual)))
        {
            return;
        }

        Assert.Equal(File.ReadAllText(path), actual);
    }

    public void AssertUsage(TranslatedUsage actual)
    {
        if (Settings.TryGetProperty("usage", out var usage))
        {
            var expected = new TranslatedUsage(usage[0].GetInt32(), usage[1].GetInt32(), usage[2].GetInt32(), usage[3].GetInt32());
            Assert.Equal(expected, actual);
        }
    }

    /// <summary>
    /// Replays an upstream SSE file through the real parser, split into small reads, and checks that
    /// each upstream event produces whole client events, so flushing after every event is safe.
    /// </summary>
    public string ReplayStream(IStreamTranslator translator, string upstreamFile, int readSize = 7)
    {
        var upstream = Read(upstreamFile);
        var client = new ArrayBufferWriter<byte>();
        using var parser = new SseParser();
        for (var offset = 0; offset < upstream.Length; offset += readSize)
        {
            var chunk = upstream.AsSpan(offset, Math.Min(readSize, upstream.Length - offset));
            while (parser.TryReadEvent(chunk, out var consumed, out var sseEvent))
            {
                var before = client.WrittenCount;
                translator.TranslateEvent(sseEvent.EventType.Span, sseEvent.Data, client);
                Assert.True(client.WrittenCount == before || client.WrittenSpan.EndsWith("\n\n"u8), "An upstream event left a partial client event.");
                chunk = chunk[consumed..];
            }
        }

        translator.Complete(client);
        Assert.True(translator.IsCompleted);
        return Encoding.UTF8.GetString(client.WrittenSpan);
    }

    private bool WriteGolden(string file, byte[] content)
    {
        if (Environment.GetEnvironmentVariable("AIGATEWAY_WRITE_GOLDEN") != "1")
        {
            return false;
        }

        File.WriteAllBytes(Path.Combine(_sourceDirectory, file), content);
        return true;
    }

    private static byte[] Reformat(ReadOnlySpan<byte> json, JsonWriterOptions options)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, options))
        {
            document.RootElement.WriteTo(writer);
        }

        if (options.Indented)
        {
            buffer.Write("\n"u8);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
