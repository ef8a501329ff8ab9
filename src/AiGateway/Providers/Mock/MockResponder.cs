using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AiGateway.Pipeline;
using AiGateway.Protocol;
using AiGateway.Protocol.Sse;
using AiGateway.Providers.Anthropic;

namespace AiGateway.Providers.Mock;

/// <summary>
/// Answers requests for <c>mock</c> deployments in-process, in the exact OpenAI wire format: chat and
/// completions echo the last user message or each prompt (streamed word by word when asked; <c>n</c>
/// choices each, token-id prompts decoded), embeddings return
/// deterministic unit vectors. Usage is reported like a real provider's. Requests on the Anthropic
/// surface are translated to chat and the answer back, as for any OpenAI-compatible deployment. For
/// demos, tests and benchmarks of the gateway alone.
/// </summary>
internal sealed class MockResponder(TimeProvider time, Tokens.TokenizerRegistry tokenizers)
{
    private static readonly byte[] Done = "[DONE]"u8.ToArray();

    public async Task RespondAsync(HttpContext context, AiRequest request)
    {
        var body = request.Body;
        if (request.Operation == AiOperation.Messages)
        {
            if (!MessagesSurface.TryPrepareChatBody(request, out body, out var error))
            {
                await error!.WriteAsync(context);
                return;
            }
        }

        var operation = request.Operation == AiOperation.Messages ? AiOperation.ChatCompletions : request.Operation;
        MockInput input;
        using (var document = JsonDocument.Parse(body))
        {
            var root = document.RootElement;
            if (MockRequestValidator.Validate(root, request.Operation) is { } invalid)
            {
                await invalid.WriteAsync(context);
                return;
            }
            var counter = tokenizers.GetCounter(request.Model.Encoding);
            try
            {
                input = MockInput.Parse(root, operation, counter);
            }
            catch (FormatException e)
            {
                await OpenAiError.WriteAsync(context, 400, e.Message, OpenAiError.InvalidRequest, e.Source, "invalid_value");
                return;
            }

            // Real token counts, like a provider's: the gateway's own count when admission made one.
            input = input.WithPromptTokens(request.PromptTokens > 0 ? request.PromptTokens : input.CountPrompt(counter, root, operation));
        }
        var choices = request.Operation == AiOperation.Embeddings ? [] : Choices(input, request.Scanned.MaxTokens);
        request.Usage = new TokenUsage(input.PromptTokens, CompletionTokens(choices), 0, UsageSource.Reported);

        switch (request.Operation)
        {
            case AiOperation.Embeddings:
                await WriteEmbeddingsAsync(context, request, input);
                break;
            case AiOperation.Messages when request.Scanned.Stream:
                using (var translator = new ChatStreamTranslator(request.Model.Name))
                {
                    await StreamAsync(context, request, input, choices, translator);
                    request.Usage = translator.Usage.ToTokenUsage();
                }
                break;
            default:
                if (request.Scanned.Stream)
                    await StreamAsync(context, request, input, choices, null);
                else
                    await WriteCompletionAsync(context, request, input, choices);
                break;
        }
    }

    /// <summary>The word pieces of every choice, in OpenAI's order: each prompt's <c>n</c> choices in turn.</summary>
    private static List<string>[] Choices(MockInput input, int? maxTokens)
    {
        // The n choices of a prompt share its one word list.
        var choices = new List<string>[input.Texts.Count * input.Choices];
        for (var prompt = 0; prompt < input.Texts.Count; prompt++)
        {
            var words = Words(input.Texts[prompt], maxTokens);
            for (var j = 0; j < input.Choices; j++) choices[prompt * input.Choices + j] = words;
        }
        return choices;
    }

    private static int CompletionTokens(List<string>[] choices) => choices.Sum(words => words.Count);

    private async Task WriteCompletionAsync(HttpContext context, AiRequest request, MockInput input, List<string>[] choices)
    {
        var delay = request.Deployment!.Cluster.Mock;
        if (delay.FirstTokenDelayMs > 0) await Task.Delay(TimeSpan.FromMilliseconds(delay.FirstTokenDelayMs), time, context.RequestAborted);

        var buffer = new ArrayBufferWriter<byte>(512 + choices.Sum(words => 200 + words.Sum(word => word.Length)));
        using (var writer = new Utf8JsonWriter(buffer, OpenAiError.WriterOptions))
        {
            var chat = request.Operation is AiOperation.ChatCompletions or AiOperation.Messages;
            writer.WriteStartObject();
            writer.WriteString("id", NewId(chat ? "chatcmpl-" : "cmpl-"));
            writer.WriteString("object", chat ? "chat.completion" : "text_completion");
            writer.WriteNumber("created", time.GetUtcNow().ToUnixTimeSeconds());
            writer.WriteString("model", request.Deployment.UpstreamModel);
            writer.WriteStartArray("choices");
            for (var index = 0; index < choices.Length; index++)
            {
                var words = choices[index];
                var text = string.Concat(words);
                writer.WriteStartObject();
                writer.WriteNumber("index", index);
                if (chat)
                {
                    writer.WriteStartObject("message");
                    writer.WriteString("role", "assistant");
                    writer.WriteString("content", text);
                    writer.WriteNull("refusal");
                    writer.WriteEndObject();
                }
                else
                {
                    writer.WriteString("text", text);
                }
                writer.WriteNull("logprobs");
                writer.WriteString("finish_reason", FinishReason(words, request.Scanned.MaxTokens));
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            WriteUsage(writer, input.PromptTokens, CompletionTokens(choices));
            writer.WriteString("system_fingerprint", "fp_aigw_mock");
            writer.WriteEndObject();
        }

        if (request.Operation == AiOperation.Messages)
        {
            var completion = buffer.WrittenSpan.ToArray();
            buffer.ResetWrittenCount();
            ChatResponseTranslator.TryTranslate(completion, request.Model.Name, buffer, out var usage, out _);
            request.Usage = usage.ToTokenUsage();
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }

    /// <summary>
    /// Streams every choice word by word; with several choices each step sends one chunk per choice still
    /// going, interleaved by <c>index</c> as OpenAI does.
    /// </summary>
    private async Task StreamAsync(HttpContext context, AiRequest request, MockInput input, List<string>[] choices, IStreamTranslator? translator)
    {
        var options = request.Deployment!.Cluster.Mock;
        var chat = request.Operation is AiOperation.ChatCompletions or AiOperation.Messages;
        // The Anthropic stream reports usage in message_delta, so the translated stream always carries it.
        var includeUsage = request.Scanned.IncludeUsage || translator is not null;
        var id = NewId(chat ? "chatcmpl-" : "cmpl-");
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        var model = request.Deployment.UpstreamModel;
        var response = context.Response;
        var ct = context.RequestAborted;

        response.StatusCode = 200;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        await response.StartAsync(ct);

        if (options.FirstTokenDelayMs > 0) await Task.Delay(TimeSpan.FromMilliseconds(options.FirstTokenDelayMs), time, ct);
        request.Telemetry?.MarkFirstEvent();

        var buffer = new ArrayBufferWriter<byte>(512);
        for (var index = 0; chat && index < choices.Length; index++)
        {
            var choice = index;
            await WriteEventAsync(response, buffer, translator, w => WriteChunk(w, id, created, model, chat, choice, role: true, content: "", finish: null), ct);
        }
        var steps = choices.Max(words => words.Count);
        for (var step = 0; step < steps; step++)
        {
            if (step > 0 && options.TokenDelayMs > 0) await Task.Delay(TimeSpan.FromMilliseconds(options.TokenDelayMs), time, ct);
            for (var index = 0; index < choices.Length; index++)
            {
                if (step >= choices[index].Count) continue;
                var (choice, word) = (index, choices[index][step]);
                await WriteEventAsync(response, buffer, translator, w => WriteChunk(w, id, created, model, chat, choice, role: false, content: word, finish: null), ct);
            }
        }
        for (var index = 0; index < choices.Length; index++)
        {
            var (choice, finish) = (index, FinishReason(choices[index], request.Scanned.MaxTokens));
            await WriteEventAsync(response, buffer, translator, w => WriteChunk(w, id, created, model, chat, choice, role: false, content: chat ? null : "", finish: finish), ct);
        }
        if (includeUsage)
        {
            await WriteEventAsync(response, buffer, translator, w =>
            {
                w.WriteStartObject();
                w.WriteString("id", id);
                w.WriteString("object", chat ? "chat.completion.chunk" : "text_completion");
                w.WriteNumber("created", created);
                w.WriteString("model", model);
                w.WriteStartArray("choices");
                w.WriteEndArray();
                WriteUsage(w, input.PromptTokens, CompletionTokens(choices));
                w.WriteEndObject();
            }, ct);
        }
        await WriteDataAsync(response, Done, translator, ct);
    }

    private static async Task WriteEventAsync(HttpResponse response, ArrayBufferWriter<byte> buffer, IStreamTranslator? translator, Action<Utf8JsonWriter> write, CancellationToken ct)
    {
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer, OpenAiError.WriterOptions))
        {
            write(writer);
        }
        await WriteDataAsync(response, buffer.WrittenMemory, translator, ct);
    }

    private static async Task WriteDataAsync(HttpResponse response, ReadOnlyMemory<byte> data, IStreamTranslator? translator, CancellationToken ct)
    {
        if (translator is null)
        {
            SseWriter.WriteEvent(response.BodyWriter, ReadOnlySpan<byte>.Empty, data.Span);
        }
        else
        {
            translator.TranslateEvent("message"u8, data, response.BodyWriter);
        }
        await response.BodyWriter.FlushAsync(ct);
    }

    private static void WriteChunk(Utf8JsonWriter w, string id, long created, string model, bool chat, int index, bool role, string? content, string? finish)
    {
        w.WriteStartObject();
        w.WriteString("id", id);
        w.WriteString("object", chat ? "chat.completion.chunk" : "text_completion");
        w.WriteNumber("created", created);
        w.WriteString("model", model);
        w.WriteString("system_fingerprint", "fp_aigw_mock");
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", index);
        if (chat)
        {
            w.WriteStartObject("delta");
            if (role) w.WriteString("role", "assistant");
            if (content is not null) w.WriteString("content", content);
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("text", content ?? "");
        }
        w.WriteNull("logprobs");
        if (finish is null) w.WriteNull("finish_reason"); else w.WriteString("finish_reason", finish);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private async Task WriteEmbeddingsAsync(HttpContext context, AiRequest request, MockInput input)
    {
        var dimensions = input.Dimensions ?? request.Deployment!.Cluster.Mock.EmbeddingDimensions;
        var buffer = new ArrayBufferWriter<byte>(256 + input.Inputs.Count * dimensions * 12);
        using (var writer = new Utf8JsonWriter(buffer, OpenAiError.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            for (var i = 0; i < input.Inputs.Count; i++)
            {
                var vector = Embed(input.Inputs[i], dimensions);
                writer.WriteStartObject();
                writer.WriteString("object", "embedding");
                writer.WriteNumber("index", i);
                if (input.Base64)
                {
                    var bytes = new byte[vector.Length * 4];
                    for (var j = 0; j < vector.Length; j++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(j * 4), vector[j]);
                    writer.WriteBase64String("embedding", bytes);
                }
                else
                {
                    writer.WriteStartArray("embedding");
                    foreach (var value in vector) writer.WriteNumberValue(value);
                    writer.WriteEndArray();
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteString("model", request.Deployment!.UpstreamModel);
            writer.WriteStartObject("usage");
            writer.WriteNumber("prompt_tokens", input.PromptTokens);
            writer.WriteNumber("total_tokens", input.PromptTokens);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }

    private static void WriteUsage(Utf8JsonWriter writer, int promptTokens, int completionTokens)
    {
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", promptTokens);
        writer.WriteNumber("completion_tokens", completionTokens);
        writer.WriteNumber("total_tokens", promptTokens + completionTokens);
        writer.WriteStartObject("prompt_tokens_details");
        writer.WriteNumber("cached_tokens", 0);
        writer.WriteEndObject();
        writer.WriteStartObject("completion_tokens_details");
        writer.WriteNumber("reasoning_tokens", 0);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>The echo split into word pieces, each with its leading space, like a tokenizer's output; cut at max_tokens.</summary>
    internal static List<string> Words(string text, int? maxTokens)
    {
        var words = new List<string>();
        var start = 0;
        for (var i = 1; i <= text.Length; i++)
        {
            if (i == text.Length || (char.IsWhiteSpace(text[i]) && !char.IsWhiteSpace(text[i - 1])))
            {
                words.Add(text[start..i]);
                start = i;
                if (maxTokens is { } max && words.Count >= max) break;
            }
        }
        return words;
    }

    private static string FinishReason(List<string> words, int? maxTokens) =>
        maxTokens is { } max && words.Count >= max ? "length" : "stop";

    private static float[] Embed(string text, int dimensions)
    {
        // Deterministic: the same input always gets the same unit vector.
        var vector = new float[dimensions];
        Span<byte> block = stackalloc byte[32];
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes(text));
        double norm = 0;
        for (var i = 0; i < dimensions; i++)
        {
            if (i % 8 == 0)
            {
                BinaryPrimitives.WriteInt32LittleEndian(seed, i);
                SHA256.HashData(seed, block);
            }
            var value = (BinaryPrimitives.ReadInt32LittleEndian(block.Slice(i % 8 * 4, 4)) / (float)int.MaxValue);
            vector[i] = value;
            norm += value * value;
        }
        var scale = (float)(1 / Math.Sqrt(norm == 0 ? 1 : norm));
        for (var i = 0; i < dimensions; i++) vector[i] *= scale;
        return vector;
    }

    private static string NewId(string prefix) => prefix + "mock" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
}
