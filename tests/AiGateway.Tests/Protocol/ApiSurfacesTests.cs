using AiGateway.Protocol;
using Microsoft.AspNetCore.Http;

namespace AiGateway.Tests.Protocol;

public class ApiSurfacesTests
{
    [Theory]
    [InlineData("/v1/messages", null, true)]
    [InlineData("/v1/messages/count_tokens", null, true)]
    [InlineData("/V1/Messages", null, true)]
    [InlineData("/v1/models", "2023-06-01", true)]
    [InlineData("/v1/models/claude-sonnet", "2023-06-01", true)]
    [InlineData("/v1/models", null, false)]
    [InlineData("/v1/models", "", false)]
    [InlineData("/v1/models/echo", null, false)]
    [InlineData("/v1/modelsx", "2023-06-01", false)]
    [InlineData("/v1/chat/completions", "2023-06-01", false)]
    [InlineData("/v1/embeddings", null, false)]
    public void Of_PathAndAnthropicVersion_PicksTheDialect(string path, string? anthropicVersion, bool anthropic)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        if (anthropicVersion is not null) context.Request.Headers["anthropic-version"] = anthropicVersion;

        Assert.Equal(anthropic ? ApiSurface.Anthropic : ApiSurface.OpenAI, ApiSurfaces.Of(context));
    }
}
