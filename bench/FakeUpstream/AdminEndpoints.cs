using System.Globalization;
using System.Text.Json;

namespace FakeUpstream;

/// <summary>Harness controls: change the default shape between scenarios, read the counters.</summary>
internal static class AdminEndpoints
{
    /// <summary><c>POST /fake/config?chunks=&amp;delayMs=&amp;ttfcMs=&amp;latencyMs=</c>; omitted values keep their current setting.</summary>
    public static Task SetShapeAsync(HttpContext context, UpstreamState state)
    {
        state.Shape = state.Shape.OverrideFromQuery(context.Request.Query);
        return context.Response.WriteAsync(state.Shape + "\n");
    }

    public static Task StatsAsync(HttpContext context, UpstreamState state)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"chat\":{state.Chat},\"streams\":{state.Streams},\"embeddings\":{state.Embeddings},\"includeUsage\":{state.IncludeUsage},\"unauthorized\":{state.Unauthorized},\"lastModel\":\"{JsonEncodedText.Encode(state.LastModel)}\",\"shape\":\"{state.Shape}\"}}\n"));
    }
}
