using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiGateway.Configuration;
using AiGateway.FunctionalTests.Infrastructure;
using AiGateway.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace AiGateway.FunctionalTests;

/// <summary>
/// Key and team spend budgets through the real gateway: read from the usage ledger, this replica's own
/// spend counted at once, other replicas' within a refresh; a spent budget is OpenAI's 429 insufficient_quota.
/// </summary>
public sealed class BudgetTests
{
    internal const string SpenderKey = "sk-test-spender-0123456789";
    private const string Spender = SpenderKey;
    private const string Teammate = "sk-test-teammate-0123456789";
    private const string Outsider = "sk-test-outsider-0123456789";

    // One echo of a few words at these prices costs a few hundred-thousandths of a dollar: one request spends a 0.00001 budget.
    internal static JsonObject Config(double keyMonthly = 0.00001, double? teamDaily = null)
    {
        var config = UsageLedgerTests.Config();
        var team = new JsonObject();
        if (teamDaily is { } daily) team["budget"] = new JsonObject { ["dailyUsd"] = daily };
        config["auth"] = new JsonObject
        {
            ["teams"] = new JsonObject { ["research"] = team },
            ["keys"] = new JsonArray
            {
                new JsonObject { ["name"] = "spender", ["sha256"] = GatewayInstance.Sha256(Spender), ["team"] = "research", ["budget"] = new JsonObject { ["monthlyUsd"] = keyMonthly } },
                new JsonObject { ["name"] = "teammate", ["sha256"] = GatewayInstance.Sha256(Teammate), ["team"] = "research" },
                new JsonObject { ["name"] = "outsider", ["sha256"] = GatewayInstance.Sha256(Outsider) },
            },
        };
        return config;
    }

    private static Task<GatewayInstance> StartAsync(JsonObject config, params string[] settings) =>
        GatewayInstance.StartAsync(config.ToJsonString(),
            [.. TestConfig.Credentials, "--UsageLedger:FlushInterval=00:00:00.050", "--UsageLedger:BudgetRefreshInterval=00:00:00.100", .. settings]);

    private static async Task<HttpResponseMessage> ChatAsync(GatewayInstance gateway, string key, string model = "echo-priced")
    {
        using var client = gateway.CreateClient(key);
        return await client.PostAsync("v1/chat/completions", ProxyTests.Json($$"""{"model":"{{model}}","messages":[{"role":"user","content":"spend a little money"}]}"""));
    }

    /// <summary>Sends requests until one is refused; the request that records its cost may race the next one, so a few may pass.</summary>
    private static async Task<(int Served, HttpResponseMessage Refused)> SpendUntilRefusedAsync(GatewayInstance gateway, string key, int atMost = 20)
    {
        for (var served = 0; served < atMost; served++)
        {
            var response = await ChatAsync(gateway, key);
            if (response.StatusCode != HttpStatusCode.OK) return (served, response);
            response.Dispose();
            await Task.Delay(20);
        }
        throw new Xunit.Sdk.XunitException($"No request was refused after {atMost}.");
    }

    private static async Task<JsonElement> AssertInsufficientQuotaAsync(HttpResponseMessage response, string contains)
    {
        var error = await ErrorTests.AssertErrorAsync(response, 429, null, "insufficient_quota");
        Assert.Equal("insufficient_quota", error.GetProperty("type").GetString());
        Assert.Contains(contains, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("Retry-After"));
        Assert.Equal("false", response.Headers.GetValues("x-should-retry").Single());
        return error;
    }

    [Fact]
    public async Task KeyBudget_Spent_Refuses429InsufficientQuota_OtherKeysServed()
    {
        await using var gateway = await StartAsync(Config());

        var (served, refused) = await SpendUntilRefusedAsync(gateway, Spender);

        Assert.InRange(served, 1, 2);
        var error = await AssertInsufficientQuotaAsync(refused, "The key 'spender' has used its monthly budget");
        var firstOfNextMonth = new DateTime(DateTime.UtcNow.Year, DateTime.UtcNow.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1);
        Assert.Contains($"It resets at {firstOfNextMonth:yyyy-MM-ddTHH:mm:ssZ}.", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        using var teammate = await ChatAsync(gateway, Teammate);
        using var outsider = await ChatAsync(gateway, Outsider);
        Assert.Equal(HttpStatusCode.OK, teammate.StatusCode);
        Assert.Equal(HttpStatusCode.OK, outsider.StatusCode);
        // A model without prices costs nothing, but a spent budget is spent whatever the model.
        using var free = await ChatAsync(gateway, Spender, "echo");
        await AssertInsufficientQuotaAsync(free, "monthly budget");
    }

    [Fact]
    public async Task SpentBudget_OnTheAnthropicSurface_IsAnthropicsRateLimitError()
    {
        await using var gateway = await StartAsync(Config());
        (await SpendUntilRefusedAsync(gateway, Spender)).Refused.Dispose();
        using var client = gateway.CreateClient(null);
        client.DefaultRequestHeaders.Add("x-api-key", Spender);
        client.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");

        using var response = await client.PostAsync("v1/messages", ProxyTests.Json("""{"model":"echo-priced","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("error", body.GetProperty("type").GetString());
        Assert.Equal("rate_limit_error", body.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("monthly budget", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("false", response.Headers.GetValues("x-should-retry").Single());
    }

    [Fact]
    public async Task TeamBudget_OneKeysSpend_RefusesTheWholeTeam()
    {
        await using var gateway = await StartAsync(Config(keyMonthly: 1_000, teamDaily: 0.00001));

        var (served, refused) = await SpendUntilRefusedAsync(gateway, Teammate);
        using var spender = await ChatAsync(gateway, Spender);
        using var outsider = await ChatAsync(gateway, Outsider);

        Assert.InRange(served, 1, 2);
        await AssertInsufficientQuotaAsync(refused, "The team 'research' has used its daily budget");
        await AssertInsufficientQuotaAsync(spender, "The team 'research' has used its daily budget");
        Assert.Equal(HttpStatusCode.OK, outsider.StatusCode);
    }

    [Fact]
    public async Task RaisingTheBudget_ByHotReload_ServesAgain()
    {
        await using var gateway = await StartAsync(Config());
        (await SpendUntilRefusedAsync(gateway, Spender)).Refused.Dispose();

        await gateway.WriteConfigAsync(Config(keyMonthly: 1_000).ToJsonString());

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            using var response = await ChatAsync(gateway, Spender);
            if (response.StatusCode == HttpStatusCode.OK) break;
            Assert.True(DateTime.UtcNow < deadline, "The raised budget was never applied.");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Budget_SurvivesARestart_ReadBackFromTheLedger()
    {
        var directory = Directory.CreateTempSubdirectory("aigw-budget-").FullName;
        var ledger = $"--UsageLedger:SqlitePath={Path.Combine(directory, "usage.db")}";
        try
        {
            await using (var first = await StartAsync(Config(), ledger))
            {
                (await SpendUntilRefusedAsync(first, Spender)).Refused.Dispose();
            }

            // A new process knows nothing of the spend but what the ledger holds.
            await using var second = await StartAsync(Config(), ledger);
            await second.Services.GetRequiredService<AiGateway.Usage.BudgetTracker>().FirstRefresh;
            using var refused = await ChatAsync(second, Spender);
            await AssertInsufficientQuotaAsync(refused, "monthly budget");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task LedgerOff_BudgetsAreNotEnforced()
    {
        await using var gateway = await StartAsync(Config(), "--UsageLedger:Enabled=false");

        for (var i = 0; i < 3; i++)
        {
            using var response = await ChatAsync(gateway, Spender);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public void BadBudgets_AreConfigErrors_WithTheirPaths()
    {
        var config = Config();
        config["auth"]!["keys"]![0]!["budget"] = new JsonObject { ["monthlyUsd"] = 0 };
        config["auth"]!["teams"]!["research"]!["budget"] = new JsonObject { ["dailyUsd"] = -1 };
        config["auth"]!["keys"]![1]!["name"] = "anonymous";
        var path = Path.Combine(Directory.CreateTempSubdirectory("aigw-test-").FullName, "gateway.json");
        File.WriteAllText(path, config.ToJsonString());

        var error = Assert.Throws<GatewayConfigException>(() => GatewayApp.Build([$"--AIGATEWAY_CONFIG={path}", "--urls=http://127.0.0.1:0"]));

        Assert.Contains("auth.keys[0].budget.monthlyUsd: must be positive.", error.Errors);
        Assert.Contains(error.Errors, e => e.StartsWith("auth.keys[1].name: 'anonymous' is the name of anonymous callers", StringComparison.Ordinal));
        Assert.Contains("auth.teams.research.budget.dailyUsd: must be positive.", error.Errors);
    }
}
