using AiGateway.Configuration;

namespace AiGateway.Tests.Configuration;

public class GatewayOptionsValidatorTests
{
    private static GatewayOptions Valid() => new()
    {
        Clusters = new(StringComparer.Ordinal)
        {
            ["mock"] = new ClusterOptions { Provider = "mock" },
            ["openai"] = new ClusterOptions { Provider = "openai", ApiKey = "env:OPENAI_API_KEY", Destinations = new(StringComparer.Ordinal) { ["d"] = new DestinationOptions { Address = "https://api.openai.com/v1" } } },
        },
        Models =
        [
            new ModelOptions { Name = "echo", Deployments = [new DeploymentOptions { Cluster = "mock" }] },
            new ModelOptions { Name = "gpt", Deployments = [new DeploymentOptions { Cluster = "openai", Model = "gpt-4o", Weight = 2 }] },
        ],
        Auth = new AuthOptions { Keys = [new KeyOptions { Name = "k", Sha256 = new string('a', 64), Models = ["echo", "gpt*"] }] },
    };

    private static JwtOptions Jwt() => new() { Issuer = "https://login.test", Audiences = ["aigw"], JwksUri = "https://login.test/jwks" };

    [Fact]
    public void Validate_ValidOptions_NoErrors() => Assert.Empty(GatewayOptionsValidator.Validate(Valid()));

    public static TheoryData<Func<GatewayOptions, GatewayOptions>, string> Broken => new()
    {
        { o => o with { Models = [] }, "models: at least one model is required." },
        { o => { o.Clusters["x"] = new ClusterOptions { Provider = "bedrock" }; return o; }, "clusters.x.provider: 'bedrock' is not a known provider; use one of openai, azure, anthropic, mock." },
        { o => { o.Clusters["openai"] = o.Clusters["openai"] with { AnthropicVersion = "2023-06-01" }; return o; }, "clusters.openai.anthropicVersion: only 'anthropic' clusters take it, and it must not be empty." },
        { o => { o.Clusters["bad id!"] = new ClusterOptions { Provider = "mock" }; return o; }, "clusters.bad id!: cluster ids may contain only letters, digits, '-', '_' and '.'." },
        { o => { o.Clusters["aigw-unresolved"] = new ClusterOptions { Provider = "mock" }; return o; }, "clusters.aigw-unresolved: the id 'aigw-unresolved' is reserved by the gateway." },
        { o => { o.Clusters["openai"] = o.Clusters["openai"] with { ApiKey = "sk-live-123" }; return o; }, "clusters.openai.apiKey: must be a reference 'env:VARIABLE' or 'file:/path'; literal keys are not allowed in config files." },
        { o => { o.Clusters["openai"] = o.Clusters["openai"] with { ApiKey = "env:" }; return o; }, "clusters.openai.apiKey: the reference names no variable or file." },
        { o => { o.Clusters["openai"].Destinations["d"] = new DestinationOptions { Address = "ftp://x" }; return o; }, "clusters.openai.destinations.d.address: 'ftp://x' is not an absolute http or https URL." },
        { o => { o.Clusters["openai"].Destinations["d"] = new DestinationOptions { Address = "https://u:p@x/v1" }; return o; }, "clusters.openai.destinations.d.address: a base URL must not carry a query, fragment or user info." },
        { o => { o.Clusters["openai"].Destinations.Clear(); return o; }, "clusters.openai.destinations: at least one destination is required." },
        { o => { o.Clusters["openai"] = o.Clusters["openai"] with { ActivityTimeout = TimeSpan.Zero }; return o; }, "clusters.openai.activityTimeout: must be between 00:00:00.001 and 01:00:00." },
        { o => { o.Models.Add(new ModelOptions { Name = "echo", Deployments = [new DeploymentOptions { Cluster = "mock" }] }); return o; }, "models[2].name: 'echo' is defined more than once." },
        { o => { o.Models.Add(new ModelOptions { Name = " ", Deployments = [new DeploymentOptions { Cluster = "mock" }] }); return o; }, "models[2].name: a model needs a name of 1 to 256 printable characters." },
        { o => { o.Models.Add(new ModelOptions { Name = "x" }); return o; }, "models[2].deployments: at least one deployment is required." },
        { o => { o.Models[1] = o.Models[1] with { Pricing = new PricingOptions { InputPerMillion = -1 } }; return o; }, "models[1].pricing.inputPerMillion: must be zero or positive." },
        { o => { o.Models[1] = o.Models[1] with { Pricing = new PricingOptions { OutputPerMillion = double.NaN } }; return o; }, "models[1].pricing.outputPerMillion: must be zero or positive." },
        { o => { o.Models[1] = o.Models[1] with { Pricing = new PricingOptions { CachedInputPerMillion = double.PositiveInfinity } }; return o; }, "models[1].pricing.cachedInputPerMillion: must be zero or positive." },
        { o => { o.Models.Add(new ModelOptions { Name = "x", Deployments = [new DeploymentOptions { Cluster = "nope" }] }); return o; }, "models[2].deployments[0].cluster: cluster 'nope' is not defined under clusters." },
        { o => { o.Models.Add(new ModelOptions { Name = "x", Deployments = [new DeploymentOptions { Cluster = "mock", Weight = 0 }] }); return o; }, "models[2].deployments: at least one deployment needs a weight above 0." },
        { o => { o.Models.Add(new ModelOptions { Name = "x", Deployments = [new DeploymentOptions { Cluster = "mock", Weight = -1 }] }); return o; }, "models[2].deployments[0].weight: must be between 0 and 1000000." },
        { o => { o.Models.Add(new ModelOptions { Name = "x", ContextWindow = 0, Deployments = [new DeploymentOptions { Cluster = "mock" }] }); return o; }, "models[2].contextWindow: must be positive." },
        { o => o with { Auth = new AuthOptions { Keys = [new KeyOptions { Name = "k", Sha256 = "abc" }] } }, "auth.keys[0].sha256: must be 64 hexadecimal characters (printf %s KEY | sha256sum)." },
        { o => o with { Auth = new AuthOptions { Keys = [new KeyOptions { Name = "", Sha256 = new string('a', 64) }] } }, "auth.keys[0].name: every key needs a name." },
        { o => o with { Auth = new AuthOptions { Keys = [new KeyOptions { Name = "a", Sha256 = new string('a', 64) }, new KeyOptions { Name = "b", Sha256 = new string('A', 64) }] } }, "auth.keys[1].sha256: the same key is listed more than once." },
        { o => o with { Auth = new AuthOptions { Keys = [new KeyOptions { Name = "a", Sha256 = new string('a', 64), Models = ["gtp-4o"] }] } }, "auth.keys[0].models[0]: model 'gtp-4o' is not in the catalog." },
        { o => o with { Limits = new LimitsOptions { MaxRequestBodyBytes = 10 } }, "limits.maxRequestBodyBytes: must be between 1024 and 268435456." },
        { o => o with { Auth = o.Auth with { Jwt = Jwt() with { Issuer = "" } } }, "auth.jwt.issuer: the issuer (the tokens' exact 'iss') is required." },
        { o => o with { Auth = o.Auth with { Jwt = Jwt() with { Audiences = [] } } }, "auth.jwt.audiences: at least one audience is required." },
        { o => o with { Auth = o.Auth with { Jwt = Jwt() with { JwksUri = null } } }, "auth.jwt: set exactly one source of signing keys: authority, jwksUri, signingKeys or signingKeysFile." },
        { o => o with { Auth = o.Auth with { Jwt = Jwt() with { Authority = "https://login.test" } } }, "auth.jwt: set exactly one source of signing keys: authority, jwksUri, signingKeys or signingKeysFile." },
        { o => o with { Auth = o.Auth with { Jwt = Jwt() with { JwksUri = "http://idp.example.com/jwks" } } }, "auth.jwt.jwksUri: must use https (http only for a loopback address)." },
        { o => o with { Auth = o.Auth with { Jwt = Jwt() with { JwksUri = null, Authority = "not a url" } } }, "auth.jwt.authority: 'not a url' is not an absolute https URL." },
        { o => o with { Auth = o.Auth with { Jwt = Jwt() with { JwksUri = null, SigningKeys = new JwksOptions() } } }, "auth.jwt.signingKeys: holds no usable signing key." },
        { o => o with { Auth = o.Auth with { Jwt = Jwt() with { JwksUri = null, SigningKeysFile = "/nonexistent/jwks.json" } } }, "auth.jwt.signingKeysFile: the file cannot be read." },
        { o => o with { Auth = o.Auth with { Jwt = Jwt() with { ClockSkew = TimeSpan.FromHours(1) } } }, "auth.jwt.clockSkew: must be between 00:00:00 and 00:30:00." },
        { o => o with { Auth = o.Auth with { Jwt = Jwt() with { RequiredScopes = ["a b"] } } }, "auth.jwt.requiredScopes[0]: must be one non-empty scope without spaces." },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void Validate_BrokenOptions_ReportsPathAndReason(Func<GatewayOptions, GatewayOptions> breakIt, string expected)
    {
        var errors = GatewayOptionsValidator.Validate(breakIt(Valid()));

        Assert.Contains(expected, errors);
    }

    [Fact]
    public void Validate_ManyProblems_ReportsAllAtOnce()
    {
        var options = Valid() with { Limits = new LimitsOptions { MaxRequestBodyBytes = 1 } };
        options.Models.Add(new ModelOptions { Name = "echo" });
        options.Clusters["openai"].Destinations.Clear();

        Assert.True(GatewayOptionsValidator.Validate(options).Count >= 4);
    }
}
