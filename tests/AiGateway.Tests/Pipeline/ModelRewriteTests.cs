using System.Text;
using AiGateway.Auth;
using AiGateway.Configuration;
using AiGateway.Pipeline;
using AiGateway.Protocol;
using AiGateway.Providers.OpenAI;

namespace AiGateway.Tests.Pipeline;

public class ModelRewriteTests
{
    private static AiRequest Request(string body, string upstreamModel)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        Assert.True(RequestScanner.TryScan(bytes, out var scanned, out _));
        var cluster = new UpstreamCluster { Id = "c", Adapter = OpenAiAdapter.Instance };
        var deployment = new Deployment { Name = "c/x", Cluster = cluster, UpstreamModel = upstreamModel, UpstreamModelJson = Deployment.EncodeJsonString(upstreamModel), Weight = 1 };
        return new AiRequest
        {
            Operation = AiOperation.ChatCompletions,
            Config = null!,
            Caller = GatewayCaller.Anonymous,
            Body = bytes,
            Scanned = scanned,
            Model = new CatalogModel { Name = scanned.Model, Deployments = [deployment], OwnedBy = "x", Encoding = "o200k_base" },
            Deployment = deployment,
        };
    }

    [Theory]
    [InlineData("""{"model":"fast","messages":[]}""", "gpt-4o-mini", """{"model":"gpt-4o-mini","messages":[]}""")]
    [InlineData("""{ "messages": [], "model" : "fast" , "n":1}""", "x", """{ "messages": [], "model" : "x" , "n":1}""")]
    [InlineData("""{"model":"f\u0061st"}""", "llama3:8b", """{"model":"llama3:8b"}""")]
    [InlineData("""{"model":"fast"}""", "quote\"d", """{"model":"quote\"d"}""")]
    public void PrepareBody_ReplacesOnlyTheModelToken(string body, string upstream, string expected)
    {
        var result = OpenAiAdapter.Instance.PrepareBody(Request(body, upstream));

        Assert.Equal(expected, Encoding.UTF8.GetString(result.Span));
    }

    [Fact]
    public void PrepareBody_SameName_ReturnsOriginalBuffer()
    {
        var request = Request("""{"model":"gpt-4o"}""", "gpt-4o");

        Assert.True(request.Body.Equals(OpenAiAdapter.Instance.PrepareBody(request)));
    }

    [Theory]
    [InlineData("application/json", true)]
    [InlineData("application/json; charset=utf-8", true)]
    [InlineData("Application/JSON", true)]
    [InlineData("text/plain", false)]
    [InlineData("application/jsonp", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsJson_ContentTypes(string? contentType, bool expected) =>
        Assert.Equal(expected, ModelResolutionMiddleware.IsJson(contentType));
}
