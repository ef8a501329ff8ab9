using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AiGateway.FunctionalTests.Infrastructure;

/// <summary>
/// The translators' golden files (tests/AiGateway.Tests/Fixtures/anthropic), replayed through the real
/// gateway. JSON files are compared compacted, as the unit tests do; .txt streams byte for byte.
/// </summary>
internal static class Golden
{
    /// <summary>The instant the golden files' <c>created</c> fields were written at.</summary>
    public const long Created = 1767225600;

    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Path(string direction, string name, string file) =>
        System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", "anthropic", direction, name, file);

    public static bool Has(string direction, string name, string file) => File.Exists(Path(direction, name, file));

    public static string Text(string direction, string name, string file) => File.ReadAllText(Path(direction, name, file));

    /// <summary>A JSON fixture compacted: the exact bytes the gateway is expected to write.</summary>
    public static string Json(string direction, string name, string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path(direction, name, file)));
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Compact))
        {
            document.WriteTo(writer);
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static JsonElement Case(string direction, string name) =>
        Has(direction, name, "case.json") ? JsonDocument.Parse(File.ReadAllText(Path(direction, name, "case.json"))).RootElement.Clone() : default;

    /// <summary>The cases of <paramref name="direction"/> that have every one of <paramref name="files"/>.</summary>
    public static TheoryData<string> Cases(string direction, params string[] files)
    {
        var data = new TheoryData<string>();
        var root = System.IO.Path.Combine(AppContext.BaseDirectory, "Fixtures", "anthropic", direction);
        foreach (var directory in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            var name = System.IO.Path.GetFileName(directory);
            if (files.All(f => File.Exists(System.IO.Path.Combine(directory, f)))) data.Add(name);
        }
        return data;
    }
}
