using System.Buffers;
using System.Text.Json;
using AiGateway.Pipeline;
using AiGateway.Protocol;
using AiGateway.Tokens;

namespace AiGateway.Providers.Anthropic;

/// <summary>
/// Answers <c>POST /v1/messages/count_tokens</c> for deployments that are not Anthropic (which count
/// upstream, exactly, with Claude's own tokenizer): the request is translated to the chat completion
/// the deployment would receive and its prompt counted with the model's tiktoken encoding, so the
/// answer is what that deployment will bill as <c>input_tokens</c>, and the same number the gateway
/// estimates for <c>/v1/messages</c> (<see cref="PromptKind.Messages"/>) when it checks the context
/// window and reserves tokens.
/// </summary>
internal sealed class MessagesTokenCounter(TokenizerRegistry tokenizers)
{
    public async Task RespondAsync(HttpContext context, AiRequest request)
    {
        var deployment = request.Deployment!;
        var chat = new ArrayBufferWriter<byte>(request.Body.Length + 256);
        // count_tokens takes a Messages request without max_tokens, which the translation requires; any value will do.
        var body = request.Scanned.MaxTokens is null ? WithMaxTokens(request.Body.Span) : request.Body;
        if (!ChatRequestTranslator.TryTranslate(body, deployment.UpstreamModel, chat, out _, out var error))
        {
            await new ClientError(error.StatusCode, error.Message, error.Param, error.Code).WriteAsync(context);
            return;
        }

        int tokens;
        using (var document = JsonDocument.Parse(chat.WrittenMemory))
        {
            // The catalog model's encoding, as admission uses: its explicit 'encoding' when set, else its first deployment's.
            tokens = PromptTokenCounter.Count(tokenizers.GetCounter(request.Model.Encoding), PromptKind.ChatCompletions, document.RootElement).Tokens;
        }

        var answer = new ArrayBufferWriter<byte>(32);
        using (var writer = new Utf8JsonWriter(answer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("input_tokens"u8, tokens);
            writer.WriteEndObject();
        }
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        response.ContentLength = answer.WrittenCount;
        await response.Body.WriteAsync(answer.WrittenMemory, context.RequestAborted);
    }

    private static byte[] WithMaxTokens(ReadOnlySpan<byte> body)
    {
        // The scanner proved the body is one JSON object with a model member, so it is never '{}'.
        var member = "\"max_tokens\":1,"u8;
        var brace = body.IndexOf((byte)'{') + 1;
        var result = new byte[body.Length + member.Length];
        body[..brace].CopyTo(result);
        member.CopyTo(result.AsSpan(brace));
        body[brace..].CopyTo(result.AsSpan(brace + member.Length));
        return result;
    }
}
