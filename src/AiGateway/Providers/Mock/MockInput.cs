using System.Text;
using System.Text.Json;
using AiGateway.Protocol;

namespace AiGateway.Providers.Mock;

/// <summary>What the mock needs from a request; malformed shapes raise <see cref="FormatException"/> with <c>Source</c> set to the parameter.</summary>
internal sealed class MockInput
{
    /// <summary>The texts to echo: the last user message of a chat, or each prompt of a completion request.</summary>
    public List<string> Texts { get; private init; } = [];

    /// <summary>Choices per text (<c>n</c>).</summary>
    public int Choices { get; private init; } = 1;

    public List<string> Inputs { get; private init; } = [];
    public int PromptTokens { get; private init; }
    public int? Dimensions { get; private init; }
    public bool Base64 { get; private init; }

    public MockInput WithPromptTokens(int tokens) =>
        new() { Texts = Texts, Choices = Choices, Inputs = Inputs, PromptTokens = tokens, Dimensions = Dimensions, Base64 = Base64 };

    /// <summary>Counts the prompt with the gateway's tokenizer, as a provider would bill it.</summary>
    public int CountPrompt(Tokens.TextTokenCounter counter, JsonElement root, AiOperation operation)
    {
        var kind = operation switch
        {
            AiOperation.Completions => Tokens.PromptKind.Completions,
            AiOperation.Embeddings => Tokens.PromptKind.Embeddings,
            _ => Tokens.PromptKind.ChatCompletions,
        };
        var count = Tokens.PromptTokenCounter.Count(counter, kind, root);
        return count.IsValid ? count.Tokens : PromptTokens;
    }

    /// <summary>Reads a request; <paramref name="counter"/> decodes token-id prompts.</summary>
    public static MockInput Parse(JsonElement root, AiOperation operation, Tokens.TextTokenCounter counter)
    {
        return operation switch
        {
            AiOperation.ChatCompletions => ParseChat(root),
            AiOperation.Completions => ParseCompletion(root, counter),
            _ => ParseEmbeddings(root),
        };
    }

    /// <summary><c>n</c>, already checked by <see cref="MockRequestValidator"/> (1 to its maximum); 1 when absent.</summary>
    private static int ChoiceCount(JsonElement root) =>
        root.TryGetProperty("n", out var n) && n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var value) && value >= 1 ? value : 1;

    private static MockInput ParseChat(JsonElement root)
    {
        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            throw Error("'messages' must be a non-empty array.", "messages");
        }

        var lastUser = "";
        var promptTokens = 3;
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
            {
                throw Error($"messages[{index}] must be an object with a string 'role'.", $"messages[{index}].role");
            }
            var text = message.TryGetProperty("content", out var content) ? ContentText(content, index) : "";
            promptTokens += 4 + Estimate(text);
            if (role.ValueEquals("user"u8)) lastUser = text;
            index++;
        }
        return new MockInput { Texts = [lastUser], Choices = ChoiceCount(root), PromptTokens = promptTokens };
    }

    private static string ContentText(JsonElement content, int index)
    {
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                return content.GetString()!;
            case JsonValueKind.Null:
                return "";
            case JsonValueKind.Array:
                var text = new StringBuilder();
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("type", out var type) && type.ValueEquals("text"u8)
                        && part.TryGetProperty("text", out var value) && value.ValueKind == JsonValueKind.String)
                    {
                        if (text.Length > 0) text.Append(' ');
                        text.Append(value.GetString());
                    }
                }
                return text.ToString();
            default:
                throw Error($"messages[{index}].content must be a string or an array of content parts.", $"messages[{index}].content");
        }
    }

    /// <summary>
    /// A prompt is a string, an array of strings, an array of token ids or an array of token-id arrays, as
    /// OpenAI takes it; every prompt gets its own <c>n</c> choices. Token ids are decoded with the model's
    /// encoding, so the echo is their text.
    /// </summary>
    private static MockInput ParseCompletion(JsonElement root, Tokens.TextTokenCounter counter)
    {
        if (!root.TryGetProperty("prompt", out var prompt))
        {
            throw Error("'prompt' is required.", "prompt");
        }
        var texts = new List<string>();
        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                texts.Add(prompt.GetString()!);
                break;
            case JsonValueKind.Array when prompt.GetArrayLength() > 0 && prompt[0].ValueKind == JsonValueKind.Number:
                texts.Add(DecodeTokens(prompt, "prompt", counter));
                break;
            case JsonValueKind.Array when prompt.GetArrayLength() > 0:
                var index = 0;
                foreach (var item in prompt.EnumerateArray())
                {
                    texts.Add(item.ValueKind switch
                    {
                        JsonValueKind.String => item.GetString()!,
                        JsonValueKind.Array => DecodeTokens(item, $"prompt[{index}]", counter),
                        _ => throw Error("'prompt' must be a string, an array of strings, an array of token ids or an array of token-id arrays.", $"prompt[{index}]"),
                    });
                    index++;
                }
                break;
            default:
                throw Error("'prompt' must be a string, an array of strings, an array of token ids or an array of token-id arrays.", "prompt");
        }
        return new MockInput { Texts = texts, Choices = ChoiceCount(root), PromptTokens = texts.Sum(Estimate) };
    }

    private static string DecodeTokens(JsonElement tokens, string param, Tokens.TextTokenCounter counter)
    {
        var ids = new List<int>(tokens.GetArrayLength());
        foreach (var token in tokens.EnumerateArray())
        {
            if (token.ValueKind != JsonValueKind.Number || !token.TryGetInt32(out var id) || id < 0 || id > counter.MaxTokenId)
            {
                throw Error($"Invalid token in prompt: {token.GetRawText()}. Minimum value is 0, maximum value is {counter.MaxTokenId} (inclusive).", param);
            }
            ids.Add(id);
        }
        return counter.Decode(ids);
    }

    private static MockInput ParseEmbeddings(JsonElement root)
    {
        if (!root.TryGetProperty("input", out var input))
        {
            throw Error("'input' is required.", "input");
        }
        var inputs = new List<string>();
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                inputs.Add(input.GetString()!);
                break;
            case JsonValueKind.Array when input.GetArrayLength() > 0:
                foreach (var item in input.EnumerateArray())
                {
                    // Token arrays are accepted like OpenAI does; the mock embeds their text form.
                    inputs.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText());
                }
                break;
            default:
                throw Error("'input' must be a non-empty string or array.", "input");
        }

        int? dimensions = null;
        if (root.TryGetProperty("dimensions", out var dims) && dims.ValueKind != JsonValueKind.Null)
        {
            if (dims.ValueKind != JsonValueKind.Number || !dims.TryGetInt32(out var d) || d is < 1 or > MockRequestValidator.MaxDimensions)
            {
                throw Error($"'dimensions' must be an integer between 1 and {MockRequestValidator.MaxDimensions}.", "dimensions");
            }
            dimensions = d;
        }
        var base64 = root.TryGetProperty("encoding_format", out var format) && format.ValueKind == JsonValueKind.String && format.ValueEquals("base64"u8);
        return new MockInput { Inputs = inputs, Dimensions = dimensions, Base64 = base64, PromptTokens = inputs.Sum(Estimate) };
    }

    /// <summary>About four characters a token, the usual rule of thumb for English.</summary>
    private static int Estimate(string text) => text.Length == 0 ? 0 : Math.Max(1, (text.Length + 3) / 4);

    private static FormatException Error(string message, string param) => new(message) { Source = param };
}
