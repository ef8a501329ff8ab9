namespace AiGateway.Protocol;

/// <summary>The wire dialect a client speaks, which decides the shape of every error it receives.</summary>
internal enum ApiSurface
{
    /// <summary>OpenAI's API: everything under <c>/v1</c> except the Anthropic paths.</summary>
    OpenAI,

    /// <summary>Anthropic's Messages API: <c>/v1/messages</c> and below, used by Anthropic SDKs.</summary>
    Anthropic,
}

internal static class ApiSurfaces
{
    /// <summary>
    /// Decided by path alone, so the auth handler, the fallback endpoints and the exception handler,
    /// which all run before (or without) model resolution, answer in the same shape as the pipeline.
    /// </summary>
    public static ApiSurface Of(PathString path) =>
        path.StartsWithSegments("/v1/messages", StringComparison.OrdinalIgnoreCase) ? ApiSurface.Anthropic : ApiSurface.OpenAI;

    public static ApiSurface Of(HttpContext context) => Of(context.Request.Path);
}
