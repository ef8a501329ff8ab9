using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiGateway.Configuration;
using AiGateway.FunctionalTests.Infrastructure;
using AiGateway.Hosting;

namespace AiGateway.FunctionalTests;

public sealed class ConfigReloadTests
{
    private static readonly TimeSpan ReloadDeadline = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Reload_ValidEdit_AddsModelWithoutRestart()
    {
        var config = TestConfig.Create();
        await using var gateway = await GatewayInstance.StartAsync(config.ToJsonString());

        config["models"]!.AsArray().Add(new JsonObject { ["name"] = "echo-2", ["deployments"] = new JsonArray { new JsonObject { ["cluster"] = "mock" } } });
        await gateway.WriteConfigAsync(config.ToJsonString());

        await WaitUntilAsync(async () => (await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(
            """{"model":"echo-2","messages":[{"role":"user","content":"new model"}]}"""))).StatusCode == HttpStatusCode.OK);
        var models = await gateway.Client.GetStringAsync("v1/models");
        Assert.Contains("\"echo-2\"", models, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ \"models\": [ oops ", "invalid JSON at line 1")]
    [InlineData("""{"clusters":{"mock":{"provider":"mock"}},"models":[{"name":"echo","deployments":[{"cluster":"nope"}]}]}""", "models[0].deployments[0].cluster")]
    [InlineData("""{"clusters":{"mock":{"provider":"mock"}},"models":[{"name":"echo","deployments":[{"cluster":"mock","weigth":2}]}]}""", "weigth")]
    public async Task Reload_InvalidEdit_IsRejectedAndLastGoodConfigKeepsServing(string badConfig, string expectedError)
    {
        await using var gateway = await GatewayInstance.StartAsync(TestConfig.Create().ToJsonString());
        using var admin = gateway.CreateClient(GatewayInstance.AdminKey);

        await gateway.WriteConfigAsync(badConfig);

        string[] errors = [];
        await WaitUntilAsync(async () =>
        {
            using var status = JsonDocument.Parse(await admin.GetStringAsync("admin/v1/config"));
            errors = status.RootElement.GetProperty("last_reload_errors").EnumerateArray().Select(e => e.GetString()!).ToArray();
            // An editor's save can be seen half-written first; wait for the complete file's verdict.
            return errors.Any(e => e.Contains(expectedError, StringComparison.Ordinal));
        });

        // Keys and models of the last good config still apply.
        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"echo","messages":[{"role":"user","content":"still here"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("still here", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_TrafficDuringEdits_NeverFails()
    {
        var config = TestConfig.Create();
        await using var gateway = await GatewayInstance.StartAsync(config.ToJsonString());
        using var cts = new CancellationTokenSource();
        var failures = 0;
        var sent = 0;
        var traffic = Task.Run(async () =>
        {
            while (!cts.IsCancellationRequested)
            {
                using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"echo","messages":[{"role":"user","content":"x"}]}"""));
                Interlocked.Increment(ref sent);
                if (response.StatusCode != HttpStatusCode.OK) Interlocked.Increment(ref failures);
            }
        });

        for (var i = 0; i < 5; i++)
        {
            config["models"]!.AsArray()[0]!["deployments"]![0]!["weight"] = i + 1;
            await gateway.WriteConfigAsync(i % 2 == 0 ? config.ToJsonString() : "{ broken");
            await Task.Delay(400);
        }
        await gateway.WriteConfigAsync(config.ToJsonString());
        await Task.Delay(400);
        await cts.CancelAsync();
        await traffic;

        Assert.True(sent > 10, $"only {sent} requests were sent");
        Assert.Equal(0, failures);
    }

    [Fact]
    public async Task Reload_RemovedKey_IsRejectedAtOnce()
    {
        var config = TestConfig.Create();
        await using var gateway = await GatewayInstance.StartAsync(config.ToJsonString());
        var chat = """{"model":"echo","messages":[{"role":"user","content":"hi"}]}""";
        // Used a few times first, so the key is among the ones the snapshot has already verified.
        for (var i = 0; i < 3; i++)
        {
            using var ok = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(chat));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        var keys = config["auth"]!["keys"]!.AsArray();
        keys.Remove(keys.Single(k => (string?)k!["name"] == "alpha"));
        await gateway.WriteConfigAsync(config.ToJsonString());

        await WaitUntilAsync(async () => (await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json(chat))).StatusCode == HttpStatusCode.Unauthorized);
        using var limited = gateway.CreateClient(GatewayInstance.LimitedKey);
        using var stillServed = await limited.PostAsync("v1/chat/completions", ProxyTests.Json(chat));
        Assert.Equal(HttpStatusCode.OK, stillServed.StatusCode);
    }

    [Fact]
    public async Task Startup_InvalidConfig_ListsEveryErrorWithPath()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("aigw-bad-").FullName, "gateway.json");
        await File.WriteAllTextAsync(path, """
            {
              "clusters": { "openai": { "provider": "openai", "apiKey": "sk-literal-secret", "destinations": {} } },
              "models": [ { "name": "a", "deployments": [ { "cluster": "missing", "weight": 1 } ] }, { "name": "a", "deployments": [] } ],
              "auth": { "keys": [ { "name": "k", "sha256": "nothex" } ] }
            }
            """);

        var error = Assert.Throws<GatewayConfigException>(() => GatewayApp.Build([$"--AIGATEWAY_CONFIG={path}", "--urls=http://127.0.0.1:0"]));

        Assert.Contains("clusters.openai.destinations: at least one destination is required.", error.Errors);
        Assert.Contains(error.Errors, e => e.StartsWith("clusters.openai.apiKey:", StringComparison.Ordinal));
        Assert.Contains("models[0].deployments[0].cluster: cluster 'missing' is not defined under clusters.", error.Errors);
        Assert.Contains("models[1].name: 'a' is defined more than once.", error.Errors);
        Assert.Contains("models[1].deployments: at least one deployment is required.", error.Errors);
        Assert.Contains(error.Errors, e => e.StartsWith("auth.keys[0].sha256:", StringComparison.Ordinal));
        Assert.DoesNotContain("sk-literal-secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Startup_InvalidConfig_ProcessExitsNonZeroWithMessage()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("aigw-bad-").FullName, "gateway.json");
        await File.WriteAllTextAsync(path, """{ "models": [] }""");
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "AiGateway.dll"), $"--AIGATEWAY_CONFIG={path}", "--urls=http://127.0.0.1:0"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };

        using var process = Process.Start(start)!;
        var stderr = await process.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, process.ExitCode);
        Assert.Contains("models: at least one model is required.", stderr, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTimeOffset.UtcNow + ReloadDeadline;
        while (!await condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "the config change was not picked up in time");
            await Task.Delay(100);
        }
    }
}
