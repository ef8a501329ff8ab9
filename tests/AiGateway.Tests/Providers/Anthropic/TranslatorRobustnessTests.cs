using System.Buffers;
using System.Text;
using System.Text.Json.Nodes;
using AiGateway.Providers.Anthropic;

namespace AiGateway.Tests.Providers.Anthropic;

/// <summary>
/// Untrusted JSON must never make a translator throw: every fixture body is mutated one value at a
/// time into every other JSON type, and truncated at every length, and each variant must either
/// translate or come back as an error result.
/// </summary>
public class TranslatorRobustnessTests
{
    private static readonly JsonNode?[] s_replacements = [null, 0, -1, 1.5, "x", "", true, new JsonArray(), new JsonObject()];

    public static TheoryData<string, string> Bodies()
    {
        var data = new TheoryData<string, string>();
        var root = Path.Combine(AppContext.BaseDirectory, "Fixtures", "anthropic");
        foreach (var file in new[] { "request.json", "upstream-response.json" })
        {
            foreach (var direction in new[] { "outbound", "inbound" })
            {
                foreach (var path in Directory.GetFiles(Path.Combine(root, direction), file, SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    data.Add($"{direction}/{file}", Path.GetRelativePath(root, path));
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Translators_MutatedOrTruncatedBody_NeverThrow(string kind, string relativePath)
    {
        var original = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "anthropic", relativePath));
        var translate = Translator(kind);

        foreach (var variant in Mutations(JsonNode.Parse(original)!))
        {
            translate(Encoding.UTF8.GetBytes(variant));
        }

        var compact = Encoding.UTF8.GetBytes(JsonNode.Parse(original)!.ToJsonString());
        for (var length = 0; length < compact.Length; length += Math.Max(1, compact.Length / 200))
        {
            Assert.False(translate(compact.AsMemory(0, length)), "A truncated body translated successfully.");
        }
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"type":"ping"}""")]
    [InlineData("""{"type":"content_block_delta","index":99999999999,"delta":{"type":"input_json_delta","partial_json":"x"}}""")]
    [InlineData("""{"type":"content_block_start","index":0,"content_block":null}""")]
    [InlineData("""{"type":"message_delta","delta":{"stop_reason":7},"usage":{"output_tokens":"x"}}""")]
    [InlineData("""{"choices":[{"delta":{"tool_calls":[{"index":"0"}]}}]}""")]
    [InlineData("""{"choices":[null],"usage":[]}""")]
    [InlineData("""{"error":"boom"}""")]
    public void StreamTranslators_GarbageEvent_NeverThrow(string data)
    {
        var bytes = Encoding.UTF8.GetBytes(data);
        foreach (IStreamTranslator translator in new IStreamTranslator[] { new AnthropicStreamTranslator("m", 0, includeUsage: true), new ChatStreamTranslator("m") })
        {
            using (translator)
            {
                var output = new ArrayBufferWriter<byte>();
                translator.TranslateEvent("message"u8, bytes, output);
                translator.Complete(output);
                Assert.True(translator.IsCompleted);
                Assert.True(output.WrittenCount == 0 || output.WrittenSpan.EndsWith("\n\n"u8));
            }
        }
    }

    [Fact]
    public void AnthropicStreamTranslator_EventsAfterCompletion_AreIgnored()
    {
        using var translator = new AnthropicStreamTranslator("m", 0, includeUsage: false);
        var output = new ArrayBufferWriter<byte>();
        translator.TranslateEvent("message_stop"u8, """{"type":"message_stop"}"""u8.ToArray(), output);
        var written = output.WrittenCount;

        translator.TranslateEvent("content_block_delta"u8, """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"late"}}"""u8.ToArray(), output);
        translator.Complete(output);

        Assert.Equal(written, output.WrittenCount);
        Assert.EndsWith("data: [DONE]\n\n", Encoding.UTF8.GetString(output.WrittenSpan), StringComparison.Ordinal);
    }

    private static Func<ReadOnlyMemory<byte>, bool> Translator(string kind) => kind switch
    {
        "outbound/request.json" => body => AnthropicRequestTranslator.TryTranslate(body, "m", 10, new ArrayBufferWriter<byte>(), out _, out _),
        "inbound/request.json" => body => ChatRequestTranslator.TryTranslate(body, "m", new ArrayBufferWriter<byte>(), out _, out _),
        "outbound/upstream-response.json" => body => AnthropicResponseTranslator.TryTranslate(body, "m", 0, new ArrayBufferWriter<byte>(), out _, out _),
        _ => body => ChatResponseTranslator.TryTranslate(body, "m", new ArrayBufferWriter<byte>(), out _, out _),
    };

    private static IEnumerable<string> Mutations(JsonNode root)
    {
        var paths = new List<Func<JsonNode, (JsonNode Parent, object Key)>>();
        Collect(root, [], paths);
        foreach (var locate in paths)
        {
            foreach (var replacement in s_replacements)
            {
                var copy = root.DeepClone();
                var (parent, key) = locate(copy);
                var value = replacement?.DeepClone();
                if (key is string name)
                {
                    parent[name] = value;
                }
                else
                {
                    parent[(int)key] = value;
                }

                yield return copy.ToJsonString();
            }
        }
    }

    private static void Collect(JsonNode node, List<object> path, List<Func<JsonNode, (JsonNode, object)>> paths)
    {
        IEnumerable<(object Key, JsonNode? Child)> children = node switch
        {
            JsonObject obj => obj.Select(p => ((object)p.Key, p.Value)),
            JsonArray array => array.Select((child, i) => ((object)i, child)),
            _ => [],
        };

        foreach (var (key, child) in children)
        {
            var parentPath = path.ToArray();
            paths.Add(copy =>
            {
                var parent = copy;
                foreach (var step in parentPath)
                {
                    parent = step is string s ? parent[s]! : parent[(int)step]!;
                }

                return (parent, key);
            });

            if (child is not null)
            {
                Collect(child, [.. path, key], paths);
            }
        }
    }
}
