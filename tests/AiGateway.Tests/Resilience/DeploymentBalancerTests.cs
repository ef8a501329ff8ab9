using AiGateway.Configuration;
using AiGateway.Providers.OpenAI;
using AiGateway.Resilience;
using Microsoft.Extensions.Time.Testing;

namespace AiGateway.Tests.Resilience;

public class DeploymentBalancerTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly DeploymentHealth _health;
    private readonly DeploymentBalancer _balancer;

    public DeploymentBalancerTests()
    {
        _health = new DeploymentHealth(_time);
        _balancer = new DeploymentBalancer(_health);
    }

    private static Deployment Make(string name, int weight = 1, int priority = 0, string? credentialProblem = null) => new()
    {
        Name = name,
        Cluster = new UpstreamCluster { Id = name, Adapter = OpenAiAdapter.Instance, CredentialProblem = credentialProblem },
        UpstreamModel = name,
        UpstreamModelJson = Deployment.EncodeJsonString(name),
        Weight = weight,
        Priority = priority,
    };

    private static CatalogModel Model(string strategy, params Deployment[] deployments) =>
        new() { Name = "m", Deployments = deployments, OwnedBy = "x", Encoding = "o200k_base", LoadBalancing = strategy };

    [Theory]
    [InlineData(0.0, "a")]
    [InlineData(0.2999, "a")]
    [InlineData(0.3, "b")]
    [InlineData(0.9999, "b")]
    public void Pick_Weighted_MapsRandomToCumulativeShare(double random, string expected) =>
        Assert.Equal(expected, _balancer.Pick(Model("weighted", Make("a", 3), Make("b", 7)), null, random)!.Name);

    [Fact]
    public void Pick_Weighted_ManyDrawsFollowWeights()
    {
        var model = Model("weighted", Make("a", 1), Make("b", 3));
        var random = new Random(42);

        var countB = Enumerable.Range(0, 40_000).Count(_ => _balancer.Pick(model, null, random.NextDouble())!.Name == "b");

        Assert.InRange(countB / 40_000.0, 0.74, 0.76);
    }

    [Fact]
    public void Pick_SkipsZeroWeightMissingCredentialOpenBreakerAndTried()
    {
        var open = Make("open");
        var tried = Make("tried");
        var model = Model("weighted", Make("off", 0), Make("nokey", 5, credentialProblem: "missing"), open, tried, Make("ok"));
        for (var i = 0; i < 5; i++) _health.For(open).Breaker.RecordFailure(new BreakerOptions(), null);

        for (var r = 0.0; r < 1; r += 0.05)
        {
            Assert.Equal("ok", _balancer.Pick(model, [tried], r)!.Name);
        }
        Assert.Null(_balancer.Pick(Model("weighted", open, tried), [tried], 0.5));
    }

    [Fact]
    public void Pick_PriorityTiers_LowerTierFirstThenNext()
    {
        var primary = Make("primary", priority: 0);
        var secondary = Make("secondary", priority: 1);
        var model = Model("weighted", secondary, primary);

        Assert.Equal("primary", _balancer.Pick(model, null, 0.9)!.Name);
        Assert.Equal("secondary", _balancer.Pick(model, [primary], 0.9)!.Name);
    }

    [Fact]
    public void Pick_LeastBusy_ChoosesFewestInFlight()
    {
        var a = Make("a");
        var b = Make("b");
        _health.For(a).Enter();
        _health.For(a).Enter();
        _health.For(b).Enter();

        Assert.Equal("b", _balancer.Pick(Model("least-busy", a, b), null, 0.1)!.Name);
    }

    [Fact]
    public void Pick_LowestLatency_ChoosesFastestAverageAndTriesUnmeasuredFirst()
    {
        var fast = Make("fast");
        var slow = Make("slow");
        var fresh = Make("fresh");
        _health.For(fast).RecordFirstByte(TimeSpan.FromMilliseconds(100));
        _health.For(slow).RecordFirstByte(TimeSpan.FromMilliseconds(900));

        Assert.Equal("fresh", _balancer.Pick(Model("lowest-latency", slow, fast, fresh), null, 0.5)!.Name);
        Assert.Equal("fast", _balancer.Pick(Model("lowest-latency", slow, fast), null, 0.5)!.Name);
    }

    [Fact]
    public void PickWithFallbacks_NoDeploymentLeft_UsesFallbackModel()
    {
        var a = Make("a");
        var model = Model("weighted", a);
        var backup = Model("weighted", Make("b"));
        model.Fallbacks = [backup];

        var (served, deployment) = _balancer.PickWithFallbacks(model, [a]);

        Assert.Same(backup, served);
        Assert.Equal("b", deployment!.Name);
    }
}
