using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiGateway.PromptTransforms;

namespace AiGateway.Tests.PromptTransforms;

public class ResponseFilterTests
{
    private static readonly Dictionary<string, string> Originals = new() { ["[EMAIL_1]"] = "jane@example.com", ["[NAME_12]"] = "Zoë \"Z\"" };

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(1000)]
    public void Restorer_PlaceholdersSplitAcrossChunks_Restored(int chunkSize)
    {
        var input = Encoding.UTF8.GetBytes("""{"content":"Hi [EMAIL_1], [x] [NAME_12] [EMAIL_2] [EMAIL_1]["}""");
        var restorer = new ResponseFilter(Originals, []).CreateRestorer();
        var output = new ArrayBufferWriter<byte>();

        for (var i = 0; i < input.Length; i += chunkSize)
        {
            restorer.Write(input.AsSpan(i, Math.Min(chunkSize, input.Length - i)), output);
        }
        restorer.Complete(output);

        Assert.Equal("""{"content":"Hi jane@example.com, [x] Zoë \"Z\" [EMAIL_2] jane@example.com["}""", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    private static string Chunk(int index, string? content, string? finish = null)
    {
        var delta = new JsonObject();
        if (content is not null) delta["content"] = content;
        var chunk = new JsonObject
        {
            ["id"] = "c",
            ["choices"] = new JsonArray { new JsonObject { ["index"] = index, ["delta"] = delta, ["finish_reason"] = finish } },
        };
        return chunk.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    [Fact]
    public void StreamRestorer_PlaceholderSplitAcrossDeltas_RestoredInTheDeltaThatCompletesIt()
    {
        var restorer = new ResponseFilter(Originals, []).CreateStreamRestorer();
        string? Rewrite(string data) => restorer.Rewrite(Encoding.UTF8.GetBytes(data)) is { } bytes ? Encoding.UTF8.GetString(bytes) : null;

        Assert.Null(Rewrite(Chunk(0, "Hello ")));
        Assert.Equal(Chunk(0, "to "), Rewrite(Chunk(0, "to [EM")));
        Assert.Equal(Chunk(0, "jane@example.com and [[x] "), Rewrite(Chunk(0, "AIL_1] and [[x] ")));
        Assert.Equal(Chunk(0, ""), Rewrite(Chunk(0, "[NAME_")));
        Assert.Equal(Chunk(0, "Zoë \"Z\".", "stop"), Rewrite(Chunk(0, "12].", "stop")));
    }

    [Fact]
    public void StreamRestorer_UnfinishedBracketAtFinish_Released()
    {
        var restorer = new ResponseFilter(Originals, []).CreateStreamRestorer();

        Assert.Equal(Chunk(1, "a "), Encoding.UTF8.GetString(restorer.Rewrite(Encoding.UTF8.GetBytes(Chunk(1, "a [EMA")))!));
        Assert.Equal(Chunk(1, "[EMA", "length"), Encoding.UTF8.GetString(restorer.Rewrite(Encoding.UTF8.GetBytes(Chunk(1, null, "length")))!));
    }

    [Fact]
    public void CheckOutput_MatchSplitAcrossDeltas_Found()
    {
        var rule = PromptPolicy.Compile(new PromptTransformOptions { Guardrails = new GuardrailOptions { Rules = [new GuardrailRuleOptions { Name = "secret-project", Keywords = ["Project Falcon"], CheckOutput = true }] } })!.Guardrails!.Rules[0];
        var filter = new ResponseFilter(null, [rule]);
        var text = new StringBuilder();
        var checkedUpTo = 0;

        text.Append("The code name is Proj");
        Assert.Null(filter.CheckOutput(text, ref checkedUpTo));
        text.Append("ect Fal");
        Assert.Null(filter.CheckOutput(text, ref checkedUpTo));
        text.Append("con.");
        Assert.Same(rule, filter.CheckOutput(text, ref checkedUpTo));
    }
}
