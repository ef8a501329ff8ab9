using AiGateway.Configuration;
using AiGateway.Pipeline;
using AiGateway.Providers.OpenAI;

namespace AiGateway.Tests.Pipeline;

public class DeploymentSelectorTests
{
    private static Deployment Make(string name, int weight, string? credentialProblem = null) => new()
    {
        Name = name,
        Cluster = new UpstreamCluster { Id = name, Adapter = OpenAiAdapter.Instance, CredentialProblem = credentialProblem },
        UpstreamModel = name,
        UpstreamModelJson = Deployment.EncodeJsonString(name),
        Weight = weight,
    };

    private static bool Usable(Deployment d) => d.Cluster.CredentialProblem is null;

    [Theory]
    [InlineData(0.0, "a")]
    [InlineData(0.2999, "a")]
    [InlineData(0.3, "b")]
    [InlineData(0.9999, "b")]
    public void Pick_ByWeight_MapsRandomToCumulativeShare(double random, string expected)
    {
        Deployment[] deployments = [Make("a", 3), Make("b", 7)];

        Assert.Equal(expected, DeploymentSelector.Pick(deployments, Usable, random)!.Name);
    }

    [Fact]
    public void Pick_ManyDraws_FollowWeights()
    {
        Deployment[] deployments = [Make("a", 1), Make("b", 3)];
        var random = new Random(42);

        var countB = Enumerable.Range(0, 40_000).Count(_ => DeploymentSelector.Pick(deployments, Usable, random.NextDouble())!.Name == "b");

        Assert.InRange(countB / 40_000.0, 0.74, 0.76);
    }

    [Fact]
    public void Pick_ZeroWeightOrUnusable_IsSkipped()
    {
        Deployment[] deployments = [Make("off", 0), Make("broken", 5, "environment variable X is not set"), Make("ok", 1)];

        for (var r = 0.0; r < 1; r += 0.05)
        {
            Assert.Equal("ok", DeploymentSelector.Pick(deployments, Usable, r)!.Name);
        }
    }

    [Fact]
    public void Pick_NothingUsable_ReturnsNull()
    {
        Assert.Null(DeploymentSelector.Pick([Make("broken", 1, "missing")], Usable, 0.5));
        Assert.Null(DeploymentSelector.Pick([Make("off", 0), Make("broken", 2, "missing")], Usable, 0.5));
    }
}
