using System.Globalization;
using System.Text.Json;

namespace AiGateway.Tokens;

/// <summary>A model's token limits, from the catalog.</summary>
/// <param name="ContextWindow">Prompt plus completion tokens the model accepts.</param>
/// <param name="MaxOutputTokens">The most completion tokens a request may ask for; null: bounded by the window only.</param>
/// <param name="DefaultMaxTokens">
/// Completion tokens to reserve when the request names no <c>max_tokens</c>/<c>max_completion_tokens</c>; null: the
/// cap, else what is left of the window. Set 0 for embedding models.
/// </param>
internal readonly record struct ModelTokenLimits(int ContextWindow, int? MaxOutputTokens = null, int? DefaultMaxTokens = null);

/// <summary>The pre-flight verdict for one request.</summary>
/// <param name="IsAllowed">False: answer 400 with the error below before anything goes upstream.</param>
/// <param name="CompletionTokens">The completion budget: the requested maximum, or the model default.</param>
/// <param name="ReserveTokens">What the rate limiter reserves: prompt + completion budget × <c>n</c>.</param>
/// <param name="ErrorCode">OpenAI error code: <c>context_length_exceeded</c>, <c>invalid_value</c> or <c>integer_below_min_value</c>.</param>
/// <param name="ErrorParam">The request parameter the error is about.</param>
internal readonly record struct ContextWindowDecision(
    bool IsAllowed,
    int PromptTokens,
    int CompletionTokens,
    long ReserveTokens,
    string? ErrorCode = null,
    string? ErrorMessage = null,
    string? ErrorParam = null)
{
    /// <summary>The OpenAI error type of every rejection here; the HTTP status is 400.</summary>
    public const string ErrorType = "invalid_request_error";
}

/// <summary>The requested completion maximum and the parameter it came from.</summary>
internal readonly record struct RequestedMaxTokens(long Value, string Param);

/// <summary>
/// Decides before forwarding whether a request fits the model's context window, with OpenAI's error wording, and
/// what the rate limiter should reserve. Pure.
/// </summary>
internal static class ContextWindowGuard
{
    /// <summary>Reads <c>max_completion_tokens</c>, else <c>max_tokens</c>; null when neither is an integer.</summary>
    public static RequestedMaxTokens? ReadRequestedMaxTokens(JsonElement request)
    {
        foreach (string name in (ReadOnlySpan<string>)["max_completion_tokens", "max_tokens"])
        {
            if (request.ValueKind == JsonValueKind.Object
                && request.TryGetProperty(name, out var value)
                && value.ValueKind == JsonValueKind.Number
                && value.TryGetInt64(out long tokens))
            {
                return new(tokens, name);
            }
        }

        return null;
    }

    /// <summary>Reads <c>n</c>, the number of choices; 1 when absent or not a positive integer.</summary>
    public static int ReadChoiceCount(JsonElement request) =>
        request.ValueKind == JsonValueKind.Object
        && request.TryGetProperty("n", out var n)
        && n.ValueKind == JsonValueKind.Number
        && n.TryGetInt32(out int choices)
        && choices > 0
            ? choices
            : 1;

    /// <summary>Checks a request of <paramref name="promptTokens"/> against <paramref name="limits"/>.</summary>
    /// <param name="promptParam">Where the prompt is: <c>messages</c>, <c>prompt</c> or <c>input</c>; names it in errors.</param>
    public static ContextWindowDecision Check(
        int promptTokens,
        RequestedMaxTokens? requested,
        ModelTokenLimits limits,
        string promptParam = "messages",
        int choices = 1)
    {
        int window = limits.ContextWindow;
        if (requested is { } max)
        {
            if (max.Value < 1)
            {
                return Reject(promptTokens, "integer_below_min_value", max.Param, Format(
                    $"Invalid '{max.Param}': integer below minimum value. Expected a value >= 1, but got {max.Value} instead."));
            }

            if (limits.MaxOutputTokens is { } cap && max.Value > cap)
            {
                return Reject(promptTokens, "invalid_value", max.Param, Format(
                    $"{max.Param} is too large: {max.Value}. This model supports at most {cap} completion tokens, whereas you provided {max.Value}."));
            }

            if (promptTokens + max.Value > window)
            {
                return Reject(promptTokens, "context_length_exceeded", promptParam, Format(
                    $"This model's maximum context length is {window} tokens. However, you requested {promptTokens + max.Value} tokens ({promptTokens} in the {promptParam}, {max.Value} in the completion). Please reduce the length of the {promptParam} or completion."));
            }

            int completion = (int)max.Value;
            return new(true, promptTokens, completion, promptTokens + ((long)completion * choices));
        }

        if (promptTokens > window)
        {
            return Reject(promptTokens, "context_length_exceeded", promptParam, Format(
                $"This model's maximum context length is {window} tokens. However, your {promptParam} resulted in {promptTokens} tokens. Please reduce the length of the {promptParam}."));
        }

        int left = window - promptTokens;
        int budget = Math.Max(0, Math.Min(limits.DefaultMaxTokens ?? limits.MaxOutputTokens ?? left, left));
        return new(true, promptTokens, budget, promptTokens + ((long)budget * choices));
    }

    private static ContextWindowDecision Reject(int promptTokens, string code, string param, string message) =>
        new(false, promptTokens, 0, 0, code, message, param);

    private static string Format(FormattableString message) => message.ToString(CultureInfo.InvariantCulture);
}
