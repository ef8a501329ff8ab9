using System.Text.Json;
using AiGateway.Protocol;
using AiGateway.RateLimiting;
using AiGateway.Tokens;

namespace AiGateway.Pipeline;

/// <summary>
/// Counts prompt tokens, refuses a request that cannot fit the model's context window, and reserves
/// requests and tokens (prompt + completion budget) in every applicable limit before anything goes
/// upstream. After the response, settles the reservation with the real usage: reported usage when the
/// upstream gave it, otherwise the prompt plus the counted streamed text, and nothing for a request the
/// upstream never served.
/// </summary>
internal sealed partial class TokenAdmissionMiddleware(
    RequestDelegate next,
    TokenizerRegistry tokenizers,
    IAdmissionLimiter limiter,
    Resilience.DeploymentBalancer balancer,
    ILogger<TokenAdmissionMiddleware> logger,
    IServiceProvider services)
{
    private readonly Usage.BudgetTracker? _budgets = services.GetService<Usage.BudgetTracker>();

    /// <summary>Completion tokens reserved when neither the request nor the catalog names a budget.</summary>
    public const int FallbackCompletionBudget = 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.GetAiRequest()!;
        if (request.Operation == AiOperation.CountTokens)
        {
            // Counting tokens generates none and is not a model call.
            await next(context);
            return;
        }
        if (_budgets is not null && (request.Caller.Budget is not null || request.Caller.TeamBudget is not null)
            && _budgets.Check(request.Caller) is { } spent)
        {
            await spent.WriteAsync(context);
            return;
        }
        var rules = Rules(request);
        var model = request.Model;

        // Exact counting costs real CPU on long prompts; it is done when a limit or the context window needs it.
        // The body's length bounds the prompt's tokens from above, so a request far from the window skips the count.
        var needsCount = rules.Count > 0 && HasTokenLimit(rules)
            || model.ContextWindow is { } window && request.Body.Length + (request.Scanned.MaxTokens ?? 0) > window;
        if (needsCount && !Count(context, request, out var error))
        {
            await error!.WriteAsync(context);
            return;
        }
        if (request.Model != model)
        {
            // A context-window fallback: its model's and deployment's limits apply instead.
            rules = Rules(request);
        }

        if (rules.Count == 0)
        {
            await next(context);
            return;
        }

        var decision = await limiter.ReserveAsync(rules, (int)Math.Min(request.ReservedTokens, int.MaxValue), context.RequestAborted);
        switch (decision.Outcome)
        {
            case RateLimitOutcome.Rejected:
                await RejectAsync(context, decision.Rejection!);
                return;
            case RateLimitOutcome.StoreUnavailable:
                await OpenAiError.WriteAsync(context, 503, "The gateway cannot check rate limits right now; retry shortly.", OpenAiError.Server, null, "rate_limit_store_unavailable");
                return;
        }

        var reservation = decision.Reservation!;
        context.Response.OnStarting(static state =>
        {
            var (http, held) = ((HttpContext, RateLimitReservation))state;
            // The provider's headers describe the gateway's own provider quota, not the caller's limits: each one
            // is replaced by the caller's figure, or removed where the caller has no such limit.
            RateLimitHeaders.Replace(http.Response.Headers, held);
            return Task.CompletedTask;
        }, (context, reservation));

        try
        {
            await next(context);
        }
        finally
        {
            // Settled also when the client aborted: the tokens were spent all the same.
            await limiter.SettleAsync(reservation, ActualTokens(request), CancellationToken.None);
        }
    }

    /// <summary>Counts the prompt and applies the context-window check; sets the request's token figures.</summary>
    private bool Count(HttpContext context, AiRequest request, out ClientError? error)
    {
        error = null;
        var model = request.Model;
        var counter = tokenizers.GetCounter(model.Encoding);
        var (kind, param) = request.Operation switch
        {
            AiOperation.Completions => (PromptKind.Completions, "prompt"),
            AiOperation.Embeddings => (PromptKind.Embeddings, "input"),
            // Counted as the chat it translates to (system, tools and tool blocks included), as count_tokens counts it;
            // shapes it cannot count are the provider's to judge, so they never make a 400 here.
            AiOperation.Messages => (PromptKind.Messages, "messages"),
            _ => (PromptKind.ChatCompletions, "messages"),
        };

        // Most chat bodies are plain messages: counted in one reader pass. Anything else goes through a document.
        if (kind != PromptKind.ChatCompletions
            || !PromptTokenCounter.TryCountPlainChat(counter, request.Body.Span, out var promptTokens, out var requested, out var choices))
        {
            using var document = JsonDocument.Parse(request.Body);
            var root = document.RootElement;
            var prompt = PromptTokenCounter.Count(counter, kind, root);
            if (!prompt.IsValid)
            {
                error = new ClientError(400, prompt.Error!, prompt.Param, "invalid_value");
                return false;
            }
            promptTokens = prompt.Tokens;
            requested = ContextWindowGuard.ReadRequestedMaxTokens(root);
            choices = ContextWindowGuard.ReadChoiceCount(root);
        }
        request.PromptTokens = promptTokens;

        if (request.Operation == AiOperation.Embeddings)
        {
            request.ReservedTokens = promptTokens;
            return true;
        }

        if (model.ContextWindow is { } window)
        {
            var decision = ContextWindowGuard.Check(promptTokens, requested, new ModelTokenLimits(window, model.MaxOutputTokens, model.DefaultMaxTokens), param, choices);
            if (!decision.IsAllowed && decision.ErrorCode == "context_length_exceeded" && TryLargerFallback(request, promptTokens, requested, param, choices) is { } larger)
            {
                // Too long for this model, not for a fallback with a larger window: send it there instead.
                decision = larger;
            }
            if (!decision.IsAllowed)
            {
                LogContextExceeded(model.Name, promptTokens, window);
                error = new ClientError(400, decision.ErrorMessage!, decision.ErrorParam, decision.ErrorCode);
                return false;
            }
            request.ReservedTokens = decision.ReserveTokens;
            return true;
        }

        if (requested is { } max && model.MaxOutputTokens is { } cap && max.Value > cap)
        {
            error = new ClientError(400, $"{max.Param} is too large: {max.Value}. This model supports at most {cap} completion tokens.", max.Param, "invalid_value");
            return false;
        }
        var budget = requested?.Value ?? model.DefaultMaxTokens ?? model.MaxOutputTokens ?? FallbackCompletionBudget;
        request.ReservedTokens = promptTokens + budget * choices;
        return true;
    }

    /// <summary>Moves the request to the first fallback model whose context window fits it; null when none does.</summary>
    private ContextWindowDecision? TryLargerFallback(AiRequest request, int promptTokens, RequestedMaxTokens? requested, string param, int choices)
    {
        foreach (var fallback in request.Model.Fallbacks)
        {
            if (fallback.ContextWindow is not { } window || window <= request.Model.ContextWindow) continue;
            var decision = ContextWindowGuard.Check(promptTokens, requested, new ModelTokenLimits(window, fallback.MaxOutputTokens, fallback.DefaultMaxTokens), param, choices);
            if (!decision.IsAllowed) continue;
            var deployment = balancer.Pick(fallback, null, Random.Shared.NextDouble());
            if (deployment is null) continue;
            LogContextFallback(request.Model.Name, fallback.Name, promptTokens);
            request.Model = fallback;
            request.Deployment = deployment;
            request.IsFallback = true;
            return decision;
        }
        return null;
    }

    private int ActualTokens(AiRequest request)
    {
        if (request.Usage is { Source: UsageSource.Cache })
        {
            // A cache hit counted as a request but spent no provider tokens: the whole reservation is refunded.
            return 0;
        }
        if (request.Usage is { } usage)
        {
            return usage.TotalTokens;
        }
        if (request.StreamedText is { } text)
        {
            // The stream broke or the client left before usage arrived: what was generated still counts.
            var completion = tokenizers.GetCounter(request.Model.Encoding).CountTokens(text);
            request.Usage = new TokenUsage(request.PromptTokens, completion, 0, UsageSource.Counted);
            return request.Usage.Value.TotalTokens;
        }
        // No answer reached the client (upstream error, refused before it started): nothing was generated.
        return 0;
    }

    private static Task RejectAsync(HttpContext context, RateLimitRejection rejection)
    {
        RateLimitHeaders.Write(context.Response.Headers, rejection);
        var dimension = rejection.Dimension == LimitDimension.Requests ? "requests" : "tokens";
        var unit = rejection.Dimension == LimitDimension.Requests ? "requests per min (RPM)" : "tokens per min (TPM)";
        var scope = rejection.Scope.Kind switch
        {
            LimitScopeKind.Key => $"key '{rejection.Scope.Id}'",
            LimitScopeKind.Team => $"team '{rejection.Scope.Id}'",
            LimitScopeKind.Model => $"model '{rejection.Scope.Id}'",
            _ => $"deployment '{rejection.Scope.Id}'",
        };
        var message = rejection.RetryAfter is { } retry
            ? $"Rate limit reached for {scope} on {unit}: Limit {rejection.Limit}, Requested {rejection.Requested}. Please try again in {RateLimitHeaders.FormatDuration(retry)}."
            : $"Request too large for {scope} on {unit}: Limit {rejection.Limit}, Requested {rejection.Requested}. Reduce the prompt or max_tokens.";
        return OpenAiError.WriteAsync(context, 429, message, dimension, null, "rate_limit_exceeded");
    }

    private static readonly List<LimitRule> NoRules = [];

    private static List<LimitRule> Rules(AiRequest request)
    {
        // Most requests have no limits at all: no list is allocated for them.
        if (request.Caller.Limit is null && request.Caller.TeamLimit is null && request.Model.Limit is null && request.Deployment!.Limit is null)
        {
            return NoRules;
        }
        var rules = new List<LimitRule>(4);
        if (request.Caller.Limit is { } key) rules.Add(key);
        if (request.Caller.TeamLimit is { } team) rules.Add(team);
        if (request.Model.Limit is { } model) rules.Add(model);
        if (request.Deployment!.Limit is { } deployment) rules.Add(deployment);
        return rules;
    }

    private static bool HasTokenLimit(List<LimitRule> rules)
    {
        foreach (var rule in rules)
        {
            if (rule.Tokens is not null) return true;
        }
        return false;
    }

    [LoggerMessage(31, LogLevel.Information, "Prompt of {PromptTokens} tokens too long for model '{Model}'; sent to fallback '{Fallback}' with a larger context window.")]
    private partial void LogContextFallback(string model, string fallback, int promptTokens);

    [LoggerMessage(30, LogLevel.Information, "Request for model '{Model}' refused before forwarding: {PromptTokens} prompt tokens for a {ContextWindow}-token window.")]
    private partial void LogContextExceeded(string model, int promptTokens, int contextWindow);
}
