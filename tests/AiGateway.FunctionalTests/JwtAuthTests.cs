using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using AiGateway.FunctionalTests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace AiGateway.FunctionalTests;

/// <summary>JWTs from an OIDC issuer as the caller's credential, next to gateway keys.</summary>
public sealed class JwtAuthTests : IAsyncLifetime
{
    private const string Issuer = "https://issuer.test/realms/ai";
    private const string Audience = "ai-gateway";

    private readonly RSA _rsa = RSA.Create(2048);
    private WireMockServer _openai = null!;
    private WireMockServer _idp = null!;
    private GatewayInstance? _gateway;

    private RsaSecurityKey SigningKey => new(_rsa) { KeyId = "k1" };

    public Task InitializeAsync()
    {
        _openai = Upstreams.StartWireMock();
        _openai.Given(Request.Create().WithPath("/v1/chat/completions").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(
                """{"id":"chatcmpl-9","object":"chat.completion","created":1700000000,"model":"gpt-upstream","choices":[{"index":0,"message":{"role":"assistant","content":"Paris."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}}"""));
        _idp = Upstreams.StartWireMock();
        _idp.Given(Request.Create().WithPath("/jwks.json").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(PublicJwks().ToJsonString()));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_gateway is not null) await _gateway.DisposeAsync();
        _openai.Stop();
        _idp.Stop();
        _rsa.Dispose();
    }

    private JsonObject PublicJwks()
    {
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(_rsa.ExportParameters(false)) { KeyId = "k1" });
        return new JsonObject { ["keys"] = new JsonArray(new JsonObject { ["kty"] = "RSA", ["kid"] = jwk.Kid, ["use"] = "sig", ["n"] = jwk.N, ["e"] = jwk.E }) };
    }

    private async Task<GatewayInstance> StartAsync(Action<JsonObject> keys, Action<JsonObject>? jwt = null)
    {
        var config = TestConfig.Create(_openai.BaseUrl() + "/v1");
        var section = new JsonObject
        {
            ["issuer"] = Issuer,
            ["audiences"] = new JsonArray(Audience),
            ["modelsClaim"] = "ai_models",
            ["teamClaim"] = "team",
        };
        keys(section);
        jwt?.Invoke(section);
        config["auth"]!["jwt"] = section;
        config["auth"]!["teams"] = new JsonObject { ["research"] = new JsonObject() };
        _gateway = await GatewayInstance.StartAsync(config.ToJsonString(), TestConfig.Credentials);
        return _gateway;
    }

    private Task<GatewayInstance> StartInlineAsync(Action<JsonObject>? jwt = null) => StartAsync(s => s["signingKeys"] = PublicJwks(), jwt);

    private string Mint(string audience = Audience, DateTime? expires = null, Dictionary<string, object>? claims = null)
    {
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            NotBefore = now.AddMinutes(-30),
            IssuedAt = now.AddMinutes(-30),
            Expires = expires ?? now.AddMinutes(10),
            SigningCredentials = new SigningCredentials(SigningKey, SecurityAlgorithms.RsaSha256),
            Claims = claims ?? new Dictionary<string, object> { ["sub"] = "alice@example.com" },
        });
    }

    private static OpenAIClient Sdk(GatewayInstance gateway, string apiKey) => new(new ApiKeyCredential(apiKey), new OpenAIClientOptions
    {
        Endpoint = new Uri(gateway.BaseAddress, "v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    });

    [Fact]
    public async Task OpenAiSdk_JwtAsApiKey_ChatsWithMockModel()
    {
        var gateway = await StartInlineAsync();

        ChatCompletion completion = await Sdk(gateway, Mint()).GetChatClient("echo").CompleteChatAsync([new UserChatMessage("hello from a jwt")]);

        Assert.Equal("hello from a jwt", completion.Content[0].Text);
    }

    [Fact]
    public async Task Chat_Jwt_UpstreamGetsProviderKeyNeverTheToken()
    {
        var gateway = await StartInlineAsync();
        var token = Mint();

        ChatCompletion completion = await Sdk(gateway, token).GetChatClient("gpt-test").CompleteChatAsync([new UserChatMessage("Capital of France?")]);

        Assert.Equal("Paris.", completion.Content[0].Text);
        var received = Assert.Single(_openai.LogEntries).RequestMessage!;
        Assert.Equal($"Bearer {TestConfig.OpenAiKey}", received.Headers!["Authorization"].Single());
        Assert.DoesNotContain(received.Headers!, h => h.Value.Any(v => v.Contains(token.Split('.')[2], StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Chat_ModelsClaimExcludesModel_Returns403ModelNotAllowed()
    {
        var gateway = await StartInlineAsync();
        using var client = gateway.CreateClient(Mint(claims: new() { ["sub"] = "bob", ["ai_models"] = "echo" }));

        using var allowed = await client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"echo","messages":[{"role":"user","content":"hi"}]}"""));
        using var refused = await client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"gpt-test","messages":[]}"""));

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        await ErrorTests.AssertErrorAsync(refused, 403, "model", "model_not_allowed");
        Assert.Empty(_openai.LogEntries);
    }

    [Theory]
    [InlineData("expired", "The token has expired.")]
    [InlineData("audience", "The token's audience is not accepted.")]
    public async Task Chat_InvalidJwt_Returns401WithReasonNotToken(string problem, string message)
    {
        var gateway = await StartInlineAsync();
        var token = problem == "expired" ? Mint(expires: TimeProvider.System.GetUtcNow().UtcDateTime.AddMinutes(-10)) : Mint(audience: "other-app");
        using var client = gateway.CreateClient(token);

        using var response = await client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"echo","messages":[]}"""));

        var error = await ErrorTests.AssertErrorAsync(response, 401, null, "invalid_api_key");
        Assert.Equal(message, error.GetProperty("message").GetString());
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.DoesNotContain(token.Split('.')[1], error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_GatewayKeyWithJwtConfigured_StillWorks()
    {
        var gateway = await StartInlineAsync();

        ChatCompletion completion = await Sdk(gateway, GatewayInstance.Key).GetChatClient("echo").CompleteChatAsync([new UserChatMessage("key path")]);
        using var wrong = gateway.CreateClient("sk-wrong");
        using var refused = await wrong.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"echo","messages":[]}"""));

        Assert.Equal("key path", completion.Content[0].Text);
        var error = await ErrorTests.AssertErrorAsync(refused, 401, null, "invalid_api_key");
        Assert.Equal("Incorrect API key provided.", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task OpenAiSdk_JwksFromJwksUri_ChatsAndListsModels()
    {
        var gateway = await StartAsync(s => s["jwksUri"] = _idp.BaseUrl() + "/jwks.json");
        var client = Sdk(gateway, Mint(claims: new() { ["sub"] = "carol", ["ai_models"] = new[] { "echo" } }));

        ChatCompletion completion = await client.GetChatClient("echo").CompleteChatAsync([new UserChatMessage("keys from wiremock")]);
        OpenAIModelCollection models = await client.GetOpenAIModelClient().GetModelsAsync();

        Assert.Equal("keys from wiremock", completion.Content[0].Text);
        Assert.Equal(["echo"], models.Select(m => m.Id));
        Assert.Single(_idp.LogEntries);
    }

    [Fact]
    public async Task Chat_KeysFromAuthorityDiscovery_Accepted()
    {
        _idp.Given(Request.Create().WithPath("/realms/ai/.well-known/openid-configuration").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(
                new JsonObject { ["issuer"] = Issuer, ["jwks_uri"] = _idp.BaseUrl() + "/jwks.json" }.ToJsonString()));
        var gateway = await StartAsync(s => s["authority"] = _idp.BaseUrl() + "/realms/ai");
        using var client = gateway.CreateClient(Mint());

        using var response = await client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"echo","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, _idp.LogEntries.Count());
    }

    [Fact]
    public async Task Chat_JwtWithoutAuthJwt_IsTreatedAsKey()
    {
        _gateway = await GatewayInstance.StartAsync(TestConfig.Create().ToJsonString());
        using var client = _gateway.CreateClient(Mint());

        using var response = await client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"echo","messages":[]}"""));

        var error = await ErrorTests.AssertErrorAsync(response, 401, null, "invalid_api_key");
        Assert.Equal("Incorrect API key provided.", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Chat_JwksUriUnreachable_StartsAndReturns401()
    {
        _idp.Stop();
        var gateway = await StartAsync(s => s["jwksUri"] = _idp.BaseUrl() + "/jwks.json");
        using var client = gateway.CreateClient(Mint());

        using var response = await client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"echo","messages":[]}"""));

        var error = await ErrorTests.AssertErrorAsync(response, 401, null, "invalid_api_key");
        Assert.Equal("The token's signing keys could not be retrieved from the issuer; try again later.", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Reload_AddingAuthJwt_AcceptsJwtWithoutRestart()
    {
        var config = TestConfig.Create();
        _gateway = await GatewayInstance.StartAsync(config.ToJsonString());
        using var client = _gateway.CreateClient(Mint());
        using var before = await client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"echo","messages":[]}"""));
        await ErrorTests.AssertErrorAsync(before, 401, null, "invalid_api_key");

        config["auth"]!["jwt"] = new JsonObject { ["issuer"] = Issuer, ["audiences"] = new JsonArray(Audience), ["signingKeys"] = PublicJwks() };
        await _gateway.WriteConfigAsync(config.ToJsonString());

        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(15);
        HttpStatusCode status;
        do
        {
            await Task.Delay(100);
            using var response = await client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"echo","messages":[{"role":"user","content":"hi"}]}"""));
            status = response.StatusCode;
        }
        while (status != HttpStatusCode.OK && TimeProvider.System.GetUtcNow() < deadline);
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task Models_InvalidJwt_Returns401()
    {
        var gateway = await StartInlineAsync();
        using var client = gateway.CreateClient(Mint(expires: TimeProvider.System.GetUtcNow().UtcDateTime.AddMinutes(-10)));

        using var response = await client.GetAsync("v1/models");

        var error = await ErrorTests.AssertErrorAsync(response, 401, null, "invalid_api_key");
        Assert.Equal("The token has expired.", error.GetProperty("message").GetString());
    }
}
