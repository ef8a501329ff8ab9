using AiGateway.Auth;
using AiGateway.Observability;

namespace AiGateway.Pipeline;

/// <summary>
/// The gateway's per-request objects, kept in <see cref="HttpContext.Items"/> under private keys rather than
/// in the feature collection: a lookup there costs a hash probe, where Kestrel's feature collection first
/// compares the type with each of its known features and then scans a list — measurable when every step
/// of the pipeline asks.
/// </summary>
internal static class GatewayHttpContextExtensions
{
    private static readonly object AiRequestKey = new();
    private static readonly object CallerKey = new();
    private static readonly object TelemetryKey = new();

    public static AiRequest? GetAiRequest(this HttpContext context) => Get<AiRequest>(context, AiRequestKey);

    public static void SetAiRequest(this HttpContext context, AiRequest request) => context.Items[AiRequestKey] = request;

    public static GatewayCaller? GetCaller(this HttpContext context) => Get<GatewayCaller>(context, CallerKey);

    public static void SetCaller(this HttpContext context, GatewayCaller caller) => context.Items[CallerKey] = caller;

    public static RequestTelemetry? GetTelemetry(this HttpContext context) => Get<RequestTelemetry>(context, TelemetryKey);

    public static void SetTelemetry(this HttpContext context, RequestTelemetry telemetry) => context.Items[TelemetryKey] = telemetry;

    private static T? Get<T>(HttpContext context, object key) where T : class =>
        context.Items.TryGetValue(key, out var value) ? value as T : null;
}
