using AiGateway.Configuration;

namespace AiGateway.Tests.Configuration;

public class GatewayConfigCompilerTests
{
    [Fact]
    public void ResolveCredential_EnvReference_ReadsVariable()
    {
        var (value, problem) = GatewayConfigCompiler.ResolveCredential("env:KEY", name => name == "KEY" ? " sk-value \n" : null);

        Assert.Equal("sk-value", value);
        Assert.Null(problem);
    }

    [Fact]
    public void ResolveCredential_MissingVariable_NamesVariableNotValue()
    {
        var (value, problem) = GatewayConfigCompiler.ResolveCredential("env:OPENAI_API_KEY", _ => null);

        Assert.Null(value);
        Assert.Equal("environment variable OPENAI_API_KEY is not set", problem);
    }

    [Fact]
    public void ResolveCredential_FileReference_ReadsTrimmedFile()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "secret-from-file\n");

        Assert.Equal(("secret-from-file", null), GatewayConfigCompiler.ResolveCredential("file:" + path, _ => null));
        Assert.Equal((null, "credential file /nonexistent/x cannot be read"), GatewayConfigCompiler.ResolveCredential("file:/nonexistent/x", _ => null));
    }

    [Fact]
    public void Compile_Deployments_GetNamesUpstreamModelsAndSplicableJson()
    {
        var options = new GatewayOptions
        {
            Clusters = new(StringComparer.Ordinal) { ["ollama"] = new ClusterOptions { Provider = "openai", Destinations = new(StringComparer.Ordinal) { ["d"] = new DestinationOptions { Address = "http://127.0.0.1:11434/v1" } } } },
            Models = [new ModelOptions { Name = "llama", Deployments = [new DeploymentOptions { Cluster = "ollama", Model = "llama3.2:3b \"q\"" }] }],
        };

        var config = GatewayConfigCompiler.Compile(options, 1, _ => null);

        var deployment = Assert.Single(config.Models["llama"].Deployments);
        Assert.Equal("ollama/llama3.2:3b \"q\"", deployment.Name);
        Assert.Equal("\"llama3.2:3b \\\"q\\\"\"", System.Text.Encoding.UTF8.GetString(deployment.UpstreamModelJson));
        Assert.Null(deployment.Cluster.CredentialProblem);
        Assert.Equal("openai", config.Models["llama"].OwnedBy);
    }

    [Theory]
    [InlineData("'ErrorOnUnknownConfiguration' ... at 'AiGateway:models:0:deployments:1:weight'.", "'ErrorOnUnknownConfiguration' ... at 'models[0].deployments[1].weight'.")]
    [InlineData("Failed to convert configuration value at 'AiGateway:limits:maxRequestBodyBytes' to type", "Failed to convert configuration value at 'limits.maxRequestBodyBytes' to type")]
    public void ToJsonPaths_BinderMessage_UsesFilePaths(string message, string expected) =>
        Assert.Equal(expected, GatewayConfigStore.ToJsonPaths(message));
}
