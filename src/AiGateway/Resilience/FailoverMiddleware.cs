using AiGateway.Configuration;
using AiGateway.Pipeline;
using AiGateway.Protocol;
using AiGateway.Providers.Mock;
using Polly;
using Polly.Retry;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;

namespace AiGateway.Resilience;

/// <summary>The result of one attempt, as the retry strategy sees it.</summary>
internal readonly record struct AttemptResult(bool Retryable);

/// <summary>
/// Sends the request to its deployment and, while nothing has reached the client, absorbs failures:
/// a 429, a 5xx, a connection error or a missed first-byte deadline makes Polly's retry strategy try
/// again — another deployment of the model first, then its fallback models in order, then the same
/// deployment after an exponential, jittered backoff that honours the provider's <c>retry-after</c>.
/// Attempts and total retry time are bounded. Every outcome feeds the deployment's circuit breaker,
/// which takes an open deployment out of rotation until a half-open probe succeeds.
/// </summary>
internal sealed partial class FailoverMiddleware(
    RequestDelegate next,
    IProxyStateLookup proxyState,
    DeploymentBalancer balancer,
    DeploymentHealth health,
    MockResponder mock,
    TimeProvider time,
    Observability.GatewayMetrics metrics,
    Observability.ResilienceMetrics resilienceMetrics,
    ILogger<FailoverMiddleware> logger)
{
    private readonly Observability.ResilienceMetrics _resilienceMetrics = resilienceMetrics;

    // Every attempt, forwarded or answered in process, gets its span, counter and timing.
    private readonly Observability.UpstreamAttempts _attempts = new(metrics, resilienceMetrics, time);
    private readonly MockResponder _mock = mock;

    private readonly RequestDelegate _next = next;
    private readonly IProxyStateLookup _proxyState = proxyState;
    private readonly DeploymentBalancer _balancer = balancer;
    private readonly DeploymentHealth _health = health;
    private readonly TimeProvider _time = time;

    private const string StateKey = "aigw.failover";
    private static readonly ResiliencePropertyKey<FailoverState> StateProperty = new(StateKey);

    private readonly ResiliencePipeline<AttemptResult> _pipeline = new ResiliencePipelineBuilder<AttemptResult> { TimeProvider = time }
        .AddRetry(new RetryStrategyOptions<AttemptResult>
        {
            // The real bound is the model's maxAttempts, checked when the next attempt is planned.
            MaxRetryAttempts = 10,
            ShouldHandle = static args => ValueTask.FromResult(
                args.Outcome.Result.Retryable && args.Context.Properties.GetValue(StateProperty, null!).PlanNext(args.AttemptNumber)),
            DelayGenerator = static args => ValueTask.FromResult<TimeSpan?>(args.Context.Properties.GetValue(StateProperty, null!).NextDelay),
        })
        .Build();

    /// <summary>429 and 5xx are worth another attempt; other 4xx are the request's fault and are not.</summary>
    public static bool IsRetryable(int status) => status is 429 or >= 500;

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.GetAiRequest()!;
        var state = new FailoverState(this, context, request, _time.GetTimestamp());
        context.Response.OnStarting(static s => ((FailoverState)s).WriteHeaders(), state);

        using var total = request.Model.TotalTimeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(request.ClientAborted);
        if (total is not null) total.CancelAfter(request.Model.TotalTimeout!.Value);
        state.Cancellation = total?.Token ?? request.ClientAborted;

        try
        {
            // The first attempt runs directly: most requests need no other, and entering the retry pipeline
            // costs every request allocations and CPU. After a retryable failure the pipeline takes over with
            // that outcome as its first attempt, so Polly still decides, waits and retries exactly as if it had
            // run the first attempt itself.
            var first = await state.RunAttemptAsync();
            if (first.Retryable)
            {
                await RetryAsync(state, first, request.ClientAborted);
            }
        }
        catch (OperationCanceledException) when (request.ClientAborted.IsCancellationRequested)
        {
            return;
        }

        await state.FinishAsync();
    }

    private async Task RetryAsync(FailoverState state, AttemptResult first, CancellationToken clientAborted)
    {
        var pool = ResilienceContextPool.Shared;
        var resilienceContext = pool.Get(clientAborted);
        resilienceContext.Properties.Set(StateProperty, state);
        state.Replay(first);
        try
        {
            await _pipeline.ExecuteAsync(static (ctx, s) => s.NextAttemptAsync(), resilienceContext, state);
        }
        finally
        {
            pool.Return(resilienceContext);
        }
    }

    /// <summary>Per-request failover bookkeeping, shared by the attempt callback and the retry strategy's hooks.</summary>
    private sealed class FailoverState(FailoverMiddleware owner, HttpContext context, AiRequest request, long started)
    {
        private Deployment? _next;
        private IForwarderErrorFeature? _lastForwarderError;
        private List<Yarp.ReverseProxy.Model.DestinationState>? _failedDestinations;

        // Headers earlier steps set (cache result, limits): a failed attempt's are cleared, theirs are not.
        private readonly KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>[] _baseHeaders = context.Response.Headers.Count == 0 ? [] : [.. context.Response.Headers];

        private void ClearResponse()
        {
            context.Response.Clear();
            foreach (var (name, value) in _baseHeaders) context.Response.Headers[name] = value;
        }

        public CancellationToken Cancellation { get; set; }

        public TimeSpan? NextDelay { get; private set; }

        private AttemptResult? _replay;

        /// <summary>The outcome the retry pipeline gets as its first attempt, which already ran.</summary>
        public void Replay(AttemptResult first) => _replay = first;

        public ValueTask<AttemptResult> NextAttemptAsync()
        {
            if (_replay is { } first)
            {
                _replay = null;
                return ValueTask.FromResult(first);
            }
            return RunAttemptAsync();
        }

        public async ValueTask<AttemptResult> RunAttemptAsync()
        {
            if (_next is not null)
            {
                PrepareRetry(_next);
            }
            var deployment = request.Deployment!;
            request.Attempts++;
            request.Tried.Add(deployment);
            var previous = request.Failure;
            request.Failure = null;
            var resilience = request.Config.Resilience;
            request.MayRetry = request.Attempts < request.Model.MaxAttempts && owner._time.GetElapsedTime(started) < resilience.MaxRetryDuration;

            var stats = owner._health.For(deployment);
            if (!stats.Breaker.TryAcquire())
            {
                // Another request claimed the half-open probe between the pick and now. The client should
                // still learn what the provider last said, not that the gateway declined to ask again.
                request.Failure = previous ?? new AttemptFailure(503, null, null, "breaker_open");
                return new AttemptResult(Retryable: true);
            }

            if (!deployment.Cluster.Adapter.IsProxied)
            {
                var answered = owner._attempts.Begin(request);
                try
                {
                    await owner._mock.RespondAsync(context, request);
                }
                finally
                {
                    owner._attempts.End(context, request, answered, forwarderError: null);
                }
                stats.Breaker.RecordSuccess(resilience.Breaker);
                return new AttemptResult(false);
            }

            if (!deployment.Cluster.Adapter.TryPrepareBody(request, out var upstreamBody, out var prepareError))
            {
                stats.Breaker.RecordSuccess(resilience.Breaker);
                await prepareError!.WriteAsync(context);
                return new AttemptResult(false);
            }
            if (!owner._proxyState.TryGetCluster(deployment.Cluster.Id, out var cluster))
            {
                // Only possible for a moment while a reload is being applied.
                request.Failure = new AttemptFailure(503, null, null, "cluster_not_ready");
                return new AttemptResult(Retryable: true);
            }

            var httpRequest = context.Request;
            httpRequest.Body = new MemoryStreamSlice(upstreamBody);
            httpRequest.ContentLength = upstreamBody.Length;
            httpRequest.Headers.Remove("Transfer-Encoding");
            context.ReassignProxyRequest(cluster);
            AvoidFailedDestinations();

            using var clock = new AttemptClock(Cancellation, request.Model.FirstTokenTimeout, owner._time, stats);
            request.Clock = clock;
            context.RequestAborted = clock.Token;
            stats.Enter();
            var attempt = owner._attempts.Begin(request);
            IForwarderErrorFeature? forwarderError = null;
            try
            {
                await owner._next(context);
            }
            finally
            {
                // Looked up once: a feature Kestrel does not know is a scan, and it is absent on almost every request.
                forwarderError = context.GetForwarderErrorFeature();
                owner._attempts.End(context, request, attempt, forwarderError);
                stats.Exit();
                context.RequestAborted = request.ClientAborted;
                request.Clock = null;
            }

            if (request.ClientAborted.IsCancellationRequested)
            {
                return new AttemptResult(false);
            }

            if ((request.Failure is not null || forwarderError is not null) && context.GetReverseProxyFeature().ProxiedDestination is { } failedDestination)
            {
                (_failedDestinations ??= []).Add(failedDestination);
            }

            if (request.Failure is { } failure)
            {
                RecordFailure(stats, deployment, failure);
                return new AttemptResult(Retryable: !context.Response.HasStarted);
            }

            if (forwarderError is { } error && !context.Response.HasStarted)
            {
                _lastForwarderError = error;
                var timedOut = error.Error == ForwarderError.RequestTimedOut || clock.FirstByteTimedOut;
                RecordFailure(stats, deployment, new AttemptFailure(timedOut ? 504 : 502, null, null, timedOut ? "timeout" : "unreachable"));
                return new AttemptResult(Retryable: true);
            }

            stats.Breaker.RecordSuccess(resilience.Breaker);
            owner._resilienceMetrics.SetBreakerState(deployment.Name, stats.Breaker.State);
            return new AttemptResult(false);
        }

        /// <summary>A retry within a cluster goes to another of its destinations when it has one.</summary>
        private void AvoidFailedDestinations()
        {
            if (_failedDestinations is null) return;
            var feature = context.GetReverseProxyFeature();
            var remaining = feature.AvailableDestinations.Where(d => !_failedDestinations.Contains(d)).ToList();
            if (remaining.Count > 0) feature.AvailableDestinations = remaining;
        }

        /// <summary>Decides whether another attempt happens and where: called by the retry strategy.</summary>
        public bool PlanNext(int attemptNumber)
        {
            _next = null;
            if (!request.MayRetry || context.Response.HasStarted || Cancellation.IsCancellationRequested)
            {
                return false;
            }

            var current = request.Deployment!;
            var (model, deployment) = owner._balancer.PickWithFallbacks(request.Model, request.Tried);
            if (deployment is not null)
            {
                // Another deployment: go at once; its provider did not ask us to wait.
                _next = deployment;
                if (model != request.Model)
                {
                    request.Model = model;
                    request.IsFallback = true;
                }
                NextDelay = TimeSpan.Zero;
            }
            else if (!(request.Failure?.RetryAfter > request.Config.Resilience.MaxRetryAfter))
            {
                // Same deployment again, after the backoff or the provider's retry-after, whichever is longer;
                // only if its breaker (opened for that retry-after, if any) lets a request through by then.
                var resilience = request.Config.Resilience;
                var backoff = resilience.BaseDelay * Math.Pow(2, attemptNumber) * (0.8 + Random.Shared.NextDouble() * 0.4);
                var asked = request.Failure?.RetryAfter ?? TimeSpan.Zero;
                var delay = asked > backoff ? asked : backoff;
                if (owner._time.GetElapsedTime(started) + delay > resilience.MaxRetryDuration
                    || !owner._health.For(current).Breaker.WillBeAvailableAt(owner._time.GetUtcNow() + delay))
                {
                    return false;
                }
                _next = current;
                NextDelay = delay;
            }
            else
            {
                return false;
            }

            owner.LogRetry(request.RequestId, current.Name, request.Failure?.Reason ?? "failure", _next!.Name, request.Attempts + 1);
            return true;
        }

        private void PrepareRetry(Deployment deployment)
        {
            request.Deployment = deployment;
            ClearResponse();
            context.Features.Set<IForwarderErrorFeature>(null);
            _lastForwarderError = null;
        }

        private void RecordFailure(DeploymentStats stats, Deployment deployment, AttemptFailure failure)
        {
            var retryAfter = failure.Status == 429 ? failure.RetryAfter : null;
            if (stats.Breaker.RecordFailure(request.Config.Resilience.Breaker, retryAfter))
            {
                owner.LogBreakerOpened(deployment.Name, failure.Reason);
            }
            owner._resilienceMetrics.SetBreakerState(deployment.Name, stats.Breaker.State);
        }

        /// <summary>After the last attempt: if its failure was held back, the client gets it now.</summary>
        public Task FinishAsync()
        {
            if (context.Response.HasStarted || request.ClientAborted.IsCancellationRequested)
            {
                return Task.CompletedTask;
            }
            var deployment = request.Deployment!;
            if (request.Failure is { Body: { } body } failure)
            {
                ClearResponse();
                context.Response.StatusCode = failure.Status;
                if (failure.RetryAfter is { } retryAfter)
                {
                    // The client decides whether to wait as long as the provider asked.
                    context.Response.Headers.RetryAfter = Math.Ceiling(retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    context.Response.Headers["retry-after-ms"] = Math.Ceiling(retryAfter.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
                context.Response.ContentType = "application/json";
                context.Response.ContentLength = body.Length;
                return context.Response.Body.WriteAsync(body, request.ClientAborted).AsTask();
            }
            if (request.Failure is { } bare)
            {
                ClearResponse();
                return bare.Reason switch
                {
                    "first_byte_timeout" or "timeout" => OpenAiError.WriteAsync(context, 504, $"The upstream deployment '{deployment.Name}' did not answer in time.", OpenAiError.Timeout, null, "upstream_timeout"),
                    "upstream_broke" => OpenAiError.WriteAsync(context, 502, $"The upstream deployment '{deployment.Name}' broke off its answer before any of it was sent.", OpenAiError.Server, null, "upstream_error"),
                    "breaker_open" or "cluster_not_ready" => OpenAiError.WriteAsync(context, 503, $"The deployment '{deployment.Name}' is not taking requests right now; retry shortly.", OpenAiError.Server, null, "deployment_unavailable"),
                    _ => OpenAiError.WriteAsync(context, 502, $"The upstream deployment '{deployment.Name}' could not be reached.", OpenAiError.Server, null, "upstream_unreachable"),
                };
            }
            if (_lastForwarderError is { } error)
            {
                owner.LogForwarderError(deployment.Name, error.Error, error.Exception?.GetType().Name ?? "none");
                ClearResponse();
                return error.Error switch
                {
                    ForwarderError.NoAvailableDestinations => OpenAiError.WriteAsync(context, 503, $"The upstream deployment '{deployment.Name}' has no healthy destination.", OpenAiError.Server, null, "upstream_unavailable"),
                    ForwarderError.RequestTimedOut or ForwarderError.RequestCanceled => OpenAiError.WriteAsync(context, 504, $"The upstream deployment '{deployment.Name}' did not answer in time.", OpenAiError.Timeout, null, "upstream_timeout"),
                    _ => OpenAiError.WriteAsync(context, 502, $"The upstream deployment '{deployment.Name}' could not be reached.", OpenAiError.Server, null, "upstream_unreachable"),
                };
            }
            return Task.CompletedTask;
        }

        public Task WriteHeaders()
        {
            var headers = context.Response.Headers;
            headers["x-gateway-attempts"] = request.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (request.Deployment is { } deployment) headers["x-gateway-deployment"] = deployment.Name;
            if (request.IsFallback) headers["x-gateway-fallback"] = "true";
            return Task.CompletedTask;
        }
    }

    [LoggerMessage(40, LogLevel.Warning, "Request {RequestId}: deployment '{Deployment}' failed ({Reason}); attempt {Attempt} goes to '{Next}'.")]
    private partial void LogRetry(string requestId, string deployment, string reason, string next, int attempt);

    [LoggerMessage(41, LogLevel.Warning, "Circuit breaker of deployment '{Deployment}' opened after {Reason}.")]
    private partial void LogBreakerOpened(string deployment, string reason);

    [LoggerMessage(42, LogLevel.Warning, "Forwarding to deployment '{Deployment}' failed: {Error} ({ExceptionType}).")]
    private partial void LogForwarderError(string deployment, ForwarderError error, string exceptionType);
}
