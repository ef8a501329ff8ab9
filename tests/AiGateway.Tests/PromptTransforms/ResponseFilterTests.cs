using System.Buffers;
using System.Text;
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
