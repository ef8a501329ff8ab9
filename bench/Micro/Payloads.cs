using System.Text;

namespace AiGateway.Benchmarks;

/// <summary>The request and stream bytes the micro-benchmarks share: the same typical prompt that
/// bench/run.sh sends, and the last events of a stream as the fake upstream writes them.</summary>
public static class Payloads
{
    public static readonly byte[] ChatRequest = Encoding.UTF8.GetBytes(
        """{"model":"bench-model","messages":[{"role":"system","content":"You are a concise assistant for a platform team. Answer in one short paragraph."},{"role":"user","content":"Our gateway sits in front of several model providers. Explain in two sentences why measuring the latency it adds, separately from the provider latency, matters when we compare proxies."}],"max_tokens":128,"stream":true,"stream_options":{"include_usage":true}}""");

    public static readonly byte[] StreamTail = Encoding.UTF8.GetBytes(
        "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"upstream-model\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
        + "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"upstream-model\",\"choices\":[],\"usage\":{\"prompt_tokens\":101,\"completion_tokens\":20,\"total_tokens\":121}}\n\n"
        + "data: [DONE]\n\n");
}
