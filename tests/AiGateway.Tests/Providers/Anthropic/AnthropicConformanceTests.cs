using System.Buffers;
using AiGateway.Providers.Anthropic;
using Microsoft.Extensions.Time.Testing;

namespace AiGateway.Tests.Providers.Anthropic;

/// <summary>Golden files for both directions: outbound (OpenAI client → Anthropic) and inbound (Anthropic client → OpenAI-compatible).</summary>
public class AnthropicConformanceTests
{
    private static readonly FakeTimeProvider s_time = new(DateTimeOffset.FromUnixTimeSeconds(1_767_225_600));

    public static TheoryData<string> OutboundCases => GoldenCase.Names("outbound");

    public static TheoryData<string> InboundCases => GoldenCase.Names("inbound");

    [Theory]
    [MemberData(nameof(OutboundCases))]
    public void Outbound_Fixture_MatchesGoldenFiles(string name)
    {
        var golden = GoldenCase.Load("outbound", name);
        var includeUsage = golden.Settings.TryGetProperty("includeUsage", out var flag) && flag.GetBoolean();

        if (golden.Has("request.json"))
        {
            var body = new ArrayBufferWriter<byte>();
            if (AnthropicRequestTranslator.TryTranslate(golden.Read("request.json"), golden.UpstreamModel, golden.DefaultMaxTokens, body, out var request, out var error))
            {
                golden.AssertJson("upstream-request.json", body.WrittenSpan);
                includeUsage = request.IncludeUsage;
            }
            else
            {
                var errorBody = new ArrayBufferWriter<byte>();
                error.WriteOpenAI(errorBody);
                Assert.Equal(400, error.StatusCode);
                golden.AssertJson("request-error.json", errorBody.WrittenSpan);
            }
        }

        if (golden.Has("upstream-response.json"))
        {
            var body = new ArrayBufferWriter<byte>();
            Assert.True(AnthropicResponseTranslator.TryTranslate(golden.Read("upstream-response.json"), golden.PublicModel, golden.Created(s_time), body, out var usage, out _));
            golden.AssertJson("response.json", body.WrittenSpan);
            golden.AssertUsage(usage);
        }

        if (golden.Has("upstream-stream.txt"))
        {
            using var translator = new AnthropicStreamTranslator(golden.PublicModel, golden.Created(s_time), includeUsage);
            golden.AssertText("response.txt", golden.ReplayStream(translator, "upstream-stream.txt"));
            golden.AssertUsage(translator.Usage);
        }

        if (golden.Has("upstream-error.json"))
        {
            var body = new ArrayBufferWriter<byte>();
            var mapped = ErrorTranslator.AnthropicToOpenAI(golden.Settings.GetProperty("upstreamStatus").GetInt32(), golden.Read("upstream-error.json"), body);
            golden.AssertJson("error.json", body.WrittenSpan);
            Assert.Equal(golden.Settings.GetProperty("expectedStatus").GetInt32(), mapped.StatusCode);
            Assert.Equal(golden.Settings.GetProperty("keepRetryAfter").GetBoolean(), mapped.KeepRetryAfter);
        }

        Assert.True(golden.Checks > 0, $"Fixture '{name}' has no file pair to check.");
    }

    [Theory]
    [MemberData(nameof(InboundCases))]
    public void Inbound_Fixture_MatchesGoldenFiles(string name)
    {
        var golden = GoldenCase.Load("inbound", name);
        var upstreamModel = golden.Setting("upstreamModel", "gpt-4o-2024-08-06");
        var publicModel = golden.Setting("publicModel", "gpt-4o");

        if (golden.Has("request.json"))
        {
            var body = new ArrayBufferWriter<byte>();
            if (ChatRequestTranslator.TryTranslate(golden.Read("request.json"), upstreamModel, body, out _, out var error))
            {
                golden.AssertJson("upstream-request.json", body.WrittenSpan);
            }
            else
            {
                var errorBody = new ArrayBufferWriter<byte>();
                error.WriteAnthropic(errorBody);
                Assert.Equal(400, error.StatusCode);
                golden.AssertJson("request-error.json", errorBody.WrittenSpan);
            }
        }

        if (golden.Has("upstream-response.json"))
        {
            var body = new ArrayBufferWriter<byte>();
            Assert.True(ChatResponseTranslator.TryTranslate(golden.Read("upstream-response.json"), publicModel, body, out var usage, out _));
            golden.AssertJson("response.json", body.WrittenSpan);
            golden.AssertUsage(usage);
        }

        if (golden.Has("upstream-stream.txt"))
        {
            using var translator = new ChatStreamTranslator(publicModel);
            golden.AssertText("response.txt", golden.ReplayStream(translator, "upstream-stream.txt"));
            golden.AssertUsage(translator.Usage);
        }

        if (golden.Has("upstream-error.json"))
        {
            var body = new ArrayBufferWriter<byte>();
            var mapped = ErrorTranslator.OpenAIToAnthropic(golden.Settings.GetProperty("upstreamStatus").GetInt32(), golden.Read("upstream-error.json"), body);
            golden.AssertJson("error.json", body.WrittenSpan);
            Assert.Equal(golden.Settings.GetProperty("expectedStatus").GetInt32(), mapped.StatusCode);
            Assert.Equal(golden.Settings.GetProperty("keepRetryAfter").GetBoolean(), mapped.KeepRetryAfter);
        }

        Assert.True(golden.Checks > 0, $"Fixture '{name}' has no file pair to check.");
    }
}
