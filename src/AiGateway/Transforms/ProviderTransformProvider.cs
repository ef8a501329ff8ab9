using System.Collections.Frozen;
using AiGateway.Auth;
using AiGateway.Pipeline;
using AiGateway.Protocol;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace AiGateway.Transforms;

/// <summary>
/// The YARP transforms of every gateway route. Request: the provider adapter sets path, query and
/// credential; the client's credentials never leave; the request id goes upstream. Response: upstream
/// errors reach the client in the OpenAI error shape, without provider credentials or URLs.
/// </summary>
internal sealed class ProviderTransformProvider : ITransformProvider
{
    public const string RequestIdHeader = "x-request-id";
    private const string UpstreamRequestIdHeader = "x-upstream-request-id";

    /// <summary>
    /// Headers that describe a client body in one provider's dialect. They are never copied blindly: the
    /// body may have been translated, so the adapter sets the ones its provider needs.
    /// </summary>
    private static readonly string[] DialectHeaders = ["anthropic-version", "anthropic-beta"];

    /// <summary>
    /// The end user's address as a proxy in front of the gateway (an ingress) reports it. Turning off YARP's
    /// default forwarders only stops the gateway adding its own; these would be copied like any header.
    /// </summary>
    private static readonly string[] ForwardingHeaders = ["X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Prefix", "X-Forwarded-Port", "Forwarded", "X-Real-IP"];

    /// <summary>
    /// Client headers never forwarded: credentials, the inbound dialect, forwarding, the client's request id (the
    /// gateway sends its own), Accept-Encoding (plain upstream bodies: the gateway reads usage and errors from
    /// them, and loopback-to-cloud compression costs more CPU than it saves), and Expect (the gateway has read the
    /// whole body already; forwarded, <c>100-continue</c> would hold the body back until the upstream answered).
    /// </summary>
    private static readonly FrozenSet<string> StrippedHeaders =
        ((string[])[.. CredentialHeaders.Client, .. DialectHeaders, .. ForwardingHeaders, RequestIdHeader, HeaderNames.AcceptEncoding, HeaderNames.Expect])
            .ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Largest upstream error body inspected; larger bodies are replaced by a generic error.</summary>
    private const int MaxErrorBody = 64 * 1024;

    public void ValidateRoute(TransformRouteValidationContext context) { }

    public void ValidateCluster(TransformClusterValidationContext context) { }

    public void Apply(TransformBuilderContext context)
    {
        // X-Forwarded-* would tell third-party providers the client's address; the gateway is the client.
        context.UseDefaultForwarders = false;
        context.AddRequestTransform(TransformRequest);
        context.AddResponseTransform(TransformResponse);
    }

    private static ValueTask TransformRequest(RequestTransformContext context)
    {
        // Removing a header from the outgoing request parses its name each time, and looking up each stripped name
        // in the client's headers costs more than one pass over the handful a client sends: only the ones the
        // client actually sent are removed (the outgoing headers are its copy).
        foreach (var header in context.HttpContext.Request.Headers)
        {
            if (StrippedHeaders.Contains(header.Key)) RequestTransform.RemoveHeader(context, header.Key);
        }
        context.ProxyRequest.Headers.TryAddWithoutValidation(RequestIdHeader, context.HttpContext.TraceIdentifier);

        var aiRequest = context.HttpContext.GetAiRequest()!;
        aiRequest.Deployment!.Cluster.Adapter.TransformRequest(context, aiRequest);
        // A body the gateway holds in memory goes upstream in the same write as the headers (BufferedBodyHandler).
        if (context.HttpContext.Request.Body is MemoryStreamSlice { Position: 0 } body)
        {
            context.ProxyRequest.Options.Set(Resilience.BufferedBodyHandler.Key, body.Memory);
        }
        return ValueTask.CompletedTask;
    }

    private static ValueTask TransformResponse(ResponseTransformContext context)
    {
        var upstream = context.ProxyResponse;
        if (upstream is null)
        {
            return ValueTask.CompletedTask;
        }
        context.HttpContext.GetAiRequest()?.Telemetry?.MarkResponseHeaders();

        var headers = context.HttpContext.Response.Headers;
        headers.Remove(HeaderNames.SetCookie);
        if (headers.Remove(RequestIdHeader, out var upstreamId))
        {
            headers[UpstreamRequestIdHeader] = upstreamId;
        }

        // Not an async method itself: the relay is every successful response's only await, so it is returned, not awaited.
        var status = (int)upstream.StatusCode;
        return status < 400 ? new ValueTask(RelayAsync(context, upstream)) : TransformErrorAsync(context, upstream, status);
    }

    /// <summary>An upstream error: held back for another attempt, or mapped to the client's error shape.</summary>
    private static async ValueTask TransformErrorAsync(ResponseTransformContext context, HttpResponseMessage upstream, int status)
    {
        var headers = context.HttpContext.Response.Headers;
        context.SuppressResponseBody = true;
        var aiRequest = context.HttpContext.GetAiRequest()!;
        var deployment = aiRequest.Deployment!;
        var ct = context.HttpContext.RequestAborted;
        var body = await ReadBoundedAsync(upstream.Content, ct);
        var (clientStatus, payload) = deployment.Cluster.Adapter.MapError(status, body, aiRequest);

        if (Resilience.FailoverMiddleware.IsRetryable(status))
        {
            var retryAfter = Resilience.RetryAfter.Read(upstream, TimeProvider.System);
            aiRequest.Failure = new AttemptFailure(clientStatus, payload, retryAfter, "status_" + status.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (aiRequest.MayRetry)
            {
                // Held back: another attempt follows, and the client must see only its answer.
                return;
            }
        }

        var response = context.HttpContext.Response;
        response.StatusCode = clientStatus;
        headers.Remove(HeaderNames.ContentEncoding);
        headers.ContentType = "application/json";
        headers.ContentLength = payload.Length;
        await response.Body.WriteAsync(payload, ct);
    }

    /// <summary>
    /// The gateway relays successful bodies itself (instead of YARP's byte copy) to read usage on the
    /// way. YARP's activity timeout only watches its own copy loop, so the relay enforces the cluster's
    /// idle timeout on every upstream read itself.
    /// </summary>
    private static async Task RelayAsync(ResponseTransformContext context, HttpResponseMessage upstream)
    {
        context.SuppressResponseBody = true;
        var httpContext = context.HttpContext;
        var aiRequest = httpContext.GetAiRequest()!;
        var idle = aiRequest.Deployment!.Cluster.Options.ActivityTimeout ?? DefaultActivityTimeout;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted);
        using var source = await upstream.Content.ReadAsStreamAsync(httpContext.RequestAborted);
        var clock = aiRequest.Clock;
        await using var watched = new IdleTimeoutStream(source, timeout, idle, clock is null ? null : clock.FirstByte);
        try
        {
            await aiRequest.Deployment.Cluster.Adapter.RelayResponseAsync(upstream, watched, httpContext.Response, aiRequest, timeout.Token);
        }
        catch (OperationCanceledException) when (aiRequest.ClientAborted.IsCancellationRequested)
        {
            // The client went away; YARP disposes the upstream response, which cancels it.
        }
        catch (Exception e) when (watched.BytesRead == 0 && !httpContext.Response.HasStarted && e is OperationCanceledException or IOException or HttpRequestException)
        {
            // Nothing reached the client: the failover step tries the next deployment, or, after the last attempt,
            // answers with a clean error instead of a cut connection.
            aiRequest.Failure = e is OperationCanceledException
                ? new AttemptFailure(504, null, null, clock?.FirstByteTimedOut == true ? "first_byte_timeout" : "timeout")
                : new AttemptFailure(502, null, null, "upstream_broke");
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            // The upstream went silent or broke mid-body. A JSON body cannot be repaired once its length
            // is promised, so the connection is cut rather than a truncated document passed as complete.
            var clientLeft = aiRequest.ClientAborted.IsCancellationRequested;
            aiRequest.UpstreamBroke = !clientLeft;
            if (ResponseRelay.IsEventStream(upstream.Content) && !clientLeft)
            {
                ResponseRelay.WriteError(httpContext.Response.BodyWriter, "The upstream stopped sending before the answer was complete.", "upstream_timeout");
                await httpContext.Response.BodyWriter.FlushAsync(aiRequest.ClientAborted);
            }
            else
            {
                httpContext.Abort();
            }
        }
    }

    public static readonly TimeSpan DefaultActivityTimeout = TimeSpan.FromSeconds(100);

    private static async Task<byte[]?> ReadBoundedAsync(HttpContent content, CancellationToken ct)
    {
        try
        {
            await using var stream = await content.ReadAsStreamAsync(ct);
            var buffer = new byte[MaxErrorBody + 1];
            var total = 0;
            int read;
            while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), ct)) > 0)
            {
                total += read;
            }
            return total > MaxErrorBody ? null : buffer[..total];
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
