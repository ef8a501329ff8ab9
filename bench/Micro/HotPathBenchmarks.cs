using System.Buffers;
using System.Collections.Frozen;
using AiGateway.Protocol;
using AiGateway.Protocol.Sse;
using AiGateway.Tokens;
using BenchmarkDotNet.Attributes;

namespace AiGateway.Benchmarks;

/// <summary>
/// The gateway's own hot-path pieces, on the same payloads the load benchmark sends: the single body
/// scan plus catalog lookup, prompt token counting, and reading usage from a relayed SSE stream.
/// </summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    private readonly FrozenDictionary<string, int> _catalog =
        Enumerable.Range(0, 50).Select(i => $"model-{i}").Append("bench-model").ToFrozenDictionary(m => m, m => m.Length, StringComparer.Ordinal);

    private readonly TextTokenCounter _counter = new TokenizerRegistry().GetCounter(TokenEncodings.O200kBase);

    [GlobalSetup]
    public void Warm() => PromptTokenCounter.Count(_counter, PromptKind.ChatCompletions, Payloads.ChatRequest);

    /// <summary>What model resolution does per request: one forward scan of the body, then the catalog lookup.</summary>
    [Benchmark]
    public int ScanAndResolveModel()
    {
        RequestScanner.TryScan(Payloads.ChatRequest, out var scanned, out _);
        return _catalog.TryGetValue(scanned.Model, out var value) ? value : -1;
    }

    /// <summary>The document path token admission takes for bodies that are not plain messages (tools, content parts): parse, then count.</summary>
    [Benchmark]
    public int CountPromptTokens() => PromptTokenCounter.Count(_counter, PromptKind.ChatCompletions, Payloads.ChatRequest).Tokens;

    /// <summary>What token admission does per request when a token limit applies and the body is plain messages: one reader pass.</summary>
    [Benchmark]
    public int CountPlainChatPromptTokens()
    {
        return PromptTokenCounter.TryCountPlainChat(_counter, Payloads.ChatRequest, out var tokens, out _, out _)
            ? tokens
            : throw new InvalidOperationException("The benchmark body is not a plain chat body: this would time the wrong path.");
    }

    /// <summary>What the SSE relay does per stream tail: parse events and read the usage chunk.</summary>
    [Benchmark]
    public int ExtractUsageFromSse()
    {
        using var parser = new SseParser();
        var buffer = new ReadOnlySequence<byte>(Payloads.StreamTail);
        var total = 0;
        while (parser.TryReadEvent(ref buffer, out var sseEvent))
        {
            if (sseEvent.Data.Span.SequenceEqual("[DONE]"u8)) continue;
            if (UsageReader.InspectChunk(sseEvent.Data.Span, null).Usage is { } usage) total += usage.TotalTokens;
        }
        return total;
    }
}
