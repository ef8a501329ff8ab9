using Microsoft.Extensions.Primitives;

namespace AiGateway.Protocol;

/// <summary>The wire dialect a client speaks, which decides the shape of every error it receives.</summary>
internal enum ApiSurface
{
    /// <summary>OpenAI's API: everything under <c>/v1</c> except the Anthropic paths.</summary>
    OpenAI,

    /// <summary>
    /// Anthropic's API as Anthropic SDKs call it: <c>/v1/messages</c> and below, and <c>/v1/models</c> when the request
    /// carries <c>anthropic-version</c>.
    /// </summary>
    Anthropic,
}

internal static class ApiSurfaces
{
    /// <summary>The surface of the paths only Anthropic's API has (<c>/v1/messages</c> and below), by path alone.</summary>
    private static ApiSurface Of(PathString path) =>
        path.StartsWithSegments("/v1/messages", StringComparison.OrdinalIgnoreCase) ? ApiSurface.Anthropic : ApiSurface.OpenAI;

    /// <summary>
    /// <see cref="Of(PathString)"/>, except on <c>/v1/models</c>, a path both APIs define: there the
    /// <c>anthropic-version</c> header, which every Anthropic SDK sends and OpenAI clients never do, picks Anthropic's
    /// dialect, so an Anthropic SDK listing models gets Anthropic's list, errors and <c>x-api-key</c> authentication
    /// while OpenAI clients see no change. Decided from the request alone, so the auth handler, the fallback endpoints
    /// and the exception handler, which all run before (or without) model resolution, answer in the same shape as the
    /// pipeline.
    /// </summary>
    public static ApiSurface Of(HttpRequest request)
    {
        var path = request.Path;
        if (Of(path) == ApiSurface.Anthropic)
        {
            return ApiSurface.Anthropic;
        }
        return path.StartsWithSegments("/v1/models", StringComparison.OrdinalIgnoreCase)
            && !StringValues.IsNullOrEmpty(request.Headers["anthropic-version"])
                ? ApiSurface.Anthropic
                : ApiSurface.OpenAI;
    }

    public static ApiSurface Of(HttpContext context) => Of(context.Request);
}
