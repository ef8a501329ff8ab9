using System.Text.Json;

namespace AiGateway.Providers.Anthropic;

/// <summary>Maps Anthropic <c>stop_reason</c> and OpenAI <c>finish_reason</c> onto each other.</summary>
internal static class StopReasons
{
    /// <summary>Anthropic → OpenAI. Unknown future reasons become <c>stop</c>: the turn did end.</summary>
    public static string ToFinishReason(JsonElement stopReason)
    {
        if (stopReason.ValueKind != JsonValueKind.String)
        {
            return "stop";
        }

        if (stopReason.ValueEquals("max_tokens") || stopReason.ValueEquals("model_context_window_exceeded"))
        {
            return "length";
        }

        if (stopReason.ValueEquals("tool_use"))
        {
            return "tool_calls";
        }

        // end_turn, stop_sequence and pause_turn (a server tool paused; what came so far is a complete answer).
        return stopReason.ValueEquals("refusal") ? "content_filter" : "stop";
    }

    /// <summary>
    /// OpenAI → Anthropic. OpenAI does not say which stop sequence matched, so <c>stop</c> always
    /// becomes <c>end_turn</c> and <c>stop_sequence</c> stays null.
    /// </summary>
    public static string ToStopReason(JsonElement finishReason)
    {
        if (finishReason.ValueKind != JsonValueKind.String)
        {
            return "end_turn";
        }

        if (finishReason.ValueEquals("length"))
        {
            return "max_tokens";
        }

        if (finishReason.ValueEquals("tool_calls") || finishReason.ValueEquals("function_call"))
        {
            return "tool_use";
        }

        return finishReason.ValueEquals("content_filter") ? "refusal" : "end_turn";
    }
}
