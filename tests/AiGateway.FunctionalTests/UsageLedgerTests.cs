using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using AiGateway.Configuration;
using AiGateway.FunctionalTests.Infrastructure;
using AiGateway.Hosting;
using AiGateway.Usage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace AiGateway.FunctionalTests;

/// <summary>
/// The usage ledger through the real gateway: every model request becomes one row (SQLite on one machine,
/// PostgreSQL shared by replicas), written off the request path, kept through a database outage and
/// flushed at shutdown; the admin API sums and lists it.
/// </summary>
public sealed class UsageLedgerTests
{
    private const double InputPerMillion = 2.0;
    private const double OutputPerMillion = 8.0;

    internal static JsonObject Config()
    {
        var config = TestConfig.Create();
        config["models"]!.AsArray().Add(new JsonObject
        {
            ["name"] = "echo-priced",
            ["pricing"] = new JsonObject { ["inputPerMillion"] = InputPerMillion, ["outputPerMillion"] = OutputPerMillion },
            ["cache"] = new JsonObject { ["enabled"] = true },
            ["deployments"] = new JsonArray { new JsonObject { ["cluster"] = "mock", ["model"] = "echo-1" } },
        });
        config["clusters"]!["no-credential"] = new JsonObject
        {
            ["provider"] = "openai",
            ["apiKey"] = "env:AIGW_TEST_CREDENTIAL_NEVER_SET",
            ["destinations"] = new JsonObject { ["d"] = new JsonObject { ["address"] = "http://127.0.0.1:9/v1" } },
        };
        config["models"]!.AsArray().Add(new JsonObject
        {
            ["name"] = "unavailable",
            ["deployments"] = new JsonArray { new JsonObject { ["cluster"] = "no-credential", ["model"] = "m" } },
        });
        return config;
    }

    private static Task<GatewayInstance> StartAsync(params string[] settings) =>
        GatewayInstance.StartAsync(Config().ToJsonString(), [.. TestConfig.Credentials, "--UsageLedger:FlushInterval=00:00:00.050", .. settings]);

    private static async Task<(JsonElement Usage, string RequestId)> ChatAsync(HttpClient client, string model, string text, bool stream = false, string extra = "")
    {
        var body = $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{text}}"}]{{(stream ? ""","stream":true,"stream_options":{"include_usage":true}""" : "")}}{{extra}}}""";
        using var response = await client.PostAsync("v1/chat/completions", ProxyTests.Json(body));
        var content = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, content);
        var requestId = response.Headers.GetValues("x-request-id").Single();
        if (!stream) return (JsonDocument.Parse(content).RootElement.GetProperty("usage").Clone(), requestId);
        var usageEvent = content.Split("\n\n").Select(e => e.StartsWith("data: {", StringComparison.Ordinal) ? JsonDocument.Parse(e[6..]).RootElement : default)
            .Last(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object);
        return (usageEvent.GetProperty("usage").Clone(), requestId);
    }

    /// <summary>Polls the admin API until <paramref name="done"/> holds (the ledger writes in the background).</summary>
    internal static async Task<JsonElement> UsageAsync(GatewayInstance gateway, string query, Func<JsonElement, bool> done)
    {
        using var admin = gateway.CreateClient(GatewayInstance.AdminKey);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await admin.GetAsync("admin/v1/usage" + query);
            var text = await response.Content.ReadAsStringAsync();
            // A 503 is a database not back yet (a test's outage); anything else but 200 is a failure.
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, text);
            var root = response.StatusCode == HttpStatusCode.OK ? JsonDocument.Parse(text).RootElement.Clone() : default;
            if (root.ValueKind == JsonValueKind.Object && done(root)) return root;
            Assert.True(DateTime.UtcNow < deadline, $"The ledger never got there: {text}");
            await Task.Delay(100);
        }
    }

    private static long Total(JsonElement summary, string field) => summary.GetProperty("total").GetProperty(field).GetInt64();

    [Fact]
    public async Task EveryRequest_IsOneRow_WithItsCallerTokensAndCost_SummedPerGroup()
    {
        await using var gateway = await StartAsync();
        using var limited = gateway.CreateClient(GatewayInstance.LimitedKey);

        var a = await ChatAsync(gateway.Client, "echo-priced", "one two three");
        var b = await ChatAsync(gateway.Client, "echo-priced", "four five", stream: true);
        var c = await ChatAsync(limited, "echo", "six");
        using (var bad = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"echo","messages":[{"role":"user","content":"x"}],"temperature":9}""")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }
        using (var refused = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"unavailable","messages":[{"role":"user","content":"x"}]}""")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }
        // Counting tokens is not a model call: no row.
        using (var counted = await gateway.Client.PostAsync("v1/messages/count_tokens", ProxyTests.Json("""{"model":"echo","messages":[{"role":"user","content":"x"}]}""")))
        {
            Assert.Equal(HttpStatusCode.OK, counted.StatusCode);
        }

        var byCaller = await UsageAsync(gateway, "?group_by=caller", s => Total(s, "requests") == 5);
        var expectedPrompt = new[] { a, b, c }.Sum(r => r.Usage.GetProperty("prompt_tokens").GetInt64());
        var expectedCompletion = new[] { a, b, c }.Sum(r => r.Usage.GetProperty("completion_tokens").GetInt64());
        Assert.Equal(expectedPrompt, Total(byCaller, "prompt_tokens"));
        Assert.Equal(expectedCompletion, Total(byCaller, "completion_tokens"));
        Assert.Equal(2, Total(byCaller, "errors"));
        Assert.Equal("sqlite", byCaller.GetProperty("store").GetString());
        var groups = byCaller.GetProperty("data").EnumerateArray().ToDictionary(g => g.GetProperty("group").GetString()!, g => g.GetProperty("requests").GetInt64());
        Assert.Equal(new Dictionary<string, long> { ["alpha"] = 4, ["limited"] = 1 }, groups);

        var pricedUsage = new[] { a, b }.Select(r => r.Usage).ToList();
        var expectedCost = pricedUsage.Sum(u => u.GetProperty("prompt_tokens").GetInt64() * InputPerMillion + u.GetProperty("completion_tokens").GetInt64() * OutputPerMillion) / 1_000_000;
        var byModel = await UsageAsync(gateway, "?group_by=model&model=echo-priced", _ => true);
        var priced = Assert.Single(byModel.GetProperty("data").EnumerateArray());
        Assert.Equal(2, priced.GetProperty("requests").GetInt64());
        Assert.Equal(expectedCost, priced.GetProperty("cost_usd").GetDouble(), 9);

        using var admin = gateway.CreateClient(GatewayInstance.AdminKey);
        var records = JsonDocument.Parse(await admin.GetStringAsync("admin/v1/usage/records?caller=alpha")).RootElement;
        var days = records.GetProperty("data").EnumerateArray().Select(r => r.GetProperty("timestamp").GetDateTime().ToString("yyyy-MM-dd")).Distinct().Order().ToList();
        var byDay = await UsageAsync(gateway, "?group_by=day&caller=alpha", _ => true);
        Assert.Equal(days, byDay.GetProperty("data").EnumerateArray().Select(g => g.GetProperty("group").GetString()));
        var rows = records.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(4, rows.Count);
        Assert.Equal((503, "unavailable"), (rows[0].GetProperty("status").GetInt32(), rows[0].GetProperty("model").GetString())); // newest first
        Assert.Equal(JsonValueKind.Null, rows[0].GetProperty("deployment").ValueKind);
        Assert.Equal(400, rows[1].GetProperty("status").GetInt32());
        Assert.Equal(b.RequestId, rows[2].GetProperty("request_id").GetString());
        Assert.True(rows[2].GetProperty("stream").GetBoolean());
        Assert.Equal("reported", rows[2].GetProperty("usage_source").GetString());
        Assert.Equal("mock/echo-1", rows[2].GetProperty("deployment").GetString());
        Assert.Equal(a.RequestId, rows[3].GetProperty("request_id").GetString());
        Assert.Equal("chat", rows[3].GetProperty("operation").GetString());
        Assert.DoesNotContain(GatewayInstance.Key, records.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("one two three", records.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Records_ArePagedNewestFirst_ByBeforeId()
    {
        await using var gateway = await StartAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++) ids.Add((await ChatAsync(gateway.Client, "echo", $"n{i}")).RequestId);
        await UsageAsync(gateway, "", s => Total(s, "requests") == 5);
        using var admin = gateway.CreateClient(GatewayInstance.AdminKey);

        var first = JsonDocument.Parse(await admin.GetStringAsync("admin/v1/usage/records?limit=3")).RootElement;
        var lastId = first.GetProperty("data")[2].GetProperty("id").GetInt64();
        var second = JsonDocument.Parse(await admin.GetStringAsync($"admin/v1/usage/records?limit=3&before={lastId}")).RootElement;

        Assert.True(first.GetProperty("has_more").GetBoolean());
        Assert.False(second.GetProperty("has_more").GetBoolean());
        var seen = first.GetProperty("data").EnumerateArray().Concat(second.GetProperty("data").EnumerateArray()).Select(r => r.GetProperty("request_id").GetString());
        Assert.Equal(Enumerable.Reverse(ids), seen);
    }

    [Fact]
    public async Task CacheHit_IsRecordedAtZeroCost_WithCacheAsItsUsageSource()
    {
        await using var gateway = await StartAsync();
        const string extra = ""","temperature":0""";
        await ChatAsync(gateway.Client, "echo-priced", "cache this", extra: extra);
        await ResponseCacheTests.StoredAsync(gateway);
        var hit = await ChatAsync(gateway.Client, "echo-priced", "cache this", extra: extra);

        await UsageAsync(gateway, "", s => Total(s, "requests") == 2);
        using var admin = gateway.CreateClient(GatewayInstance.AdminKey);
        var row = JsonDocument.Parse(await admin.GetStringAsync("admin/v1/usage/records?limit=1")).RootElement.GetProperty("data")[0];

        Assert.Equal(hit.RequestId, row.GetProperty("request_id").GetString());
        Assert.Equal("hit", row.GetProperty("cache").GetString());
        Assert.Equal("cache", row.GetProperty("usage_source").GetString());
        Assert.Equal(0, row.GetProperty("cost_usd").GetDouble());
        Assert.Equal(hit.Usage.GetProperty("prompt_tokens").GetInt32(), row.GetProperty("cached_tokens").GetInt32());
    }

    [Fact]
    public async Task Shutdown_WritesWhatIsQueued()
    {
        // A flush interval far longer than the test: only the shutdown flush can write these rows.
        var gateway = await GatewayInstance.StartAsync(Config().ToJsonString(), [.. TestConfig.Credentials, "--UsageLedger:FlushInterval=00:01:00"]);
        var path = Path.Combine(Path.GetDirectoryName(gateway.ConfigPath)!, "usage.db");
        try
        {
            for (var i = 0; i < 7; i++) await ChatAsync(gateway.Client, "echo", $"queued {i}");
            var ledger = gateway.Services.GetRequiredService<UsageLedger>();
            await ledger.SchemaReady;
            Assert.Equal(0, ledger.Written);

            await gateway.StopAsync();

            // Read in place (the file and its write-ahead log) before the instance's folder is deleted.
            await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
            await connection.OpenAsync();
            using var count = connection.CreateCommand();
            count.CommandText = "SELECT COUNT(*) FROM usage_records";
            Assert.Equal(7L, (long)(await count.ExecuteScalarAsync())!);
        }
        finally
        {
            await gateway.DisposeAsync();
        }
    }

    [Fact]
    public async Task RowsSqliteRefuses_AreDroppedOneByOne_TheRestAreWritten()
    {
        await using var gateway = await StartAsync();
        await ChatAsync(gateway.Client, "echo-priced", "creates the table");
        await UsageAsync(gateway, "", s => Total(s, "requests") == 1);
        // A trigger that aborts the rows of one model: SQLite's constraint error, as a bad value would get.
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(Path.GetDirectoryName(gateway.ConfigPath)!, "usage.db")};Pooling=False"))
        {
            await connection.OpenAsync();
            using var trigger = connection.CreateCommand();
            trigger.CommandText = "CREATE TRIGGER test_refuse_echo BEFORE INSERT ON usage_records WHEN NEW.model = 'echo' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END";
            await trigger.ExecuteNonQueryAsync();
        }

        for (var i = 0; i < 3; i++)
        {
            await ChatAsync(gateway.Client, "echo-priced", $"kept {i}");
            await ChatAsync(gateway.Client, "echo", $"refused {i}");
        }

        await UsageAsync(gateway, "", s => Total(s, "requests") == 4);
        var ledger = gateway.Services.GetRequiredService<UsageLedger>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (ledger.Dropped < 3 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(3, ledger.Dropped);
    }

    [Fact]
    public async Task Retention_DeletesRowsOlderThanItsDays()
    {
        var directory = Directory.CreateTempSubdirectory("aigw-retention-").FullName;
        var ledger = $"--UsageLedger:SqlitePath={Path.Combine(directory, "usage.db")}";
        try
        {
            // Rows stamped three days ago, by a gateway whose clock says so.
            var threeDaysAgo = DateTimeOffset.UtcNow.AddDays(-3).ToUnixTimeSeconds();
            await using (var old = await GatewayInstance.StartAsync(Config().ToJsonString(), GatewayInstance.FixedClock(threeDaysAgo), [.. TestConfig.Credentials, ledger]))
            {
                for (var i = 0; i < 3; i++) await ChatAsync(old.Client, "echo", $"old {i}");
            }

            await using var gateway = await StartAsync(ledger, "--UsageLedger:RetentionDays=1");
            await ChatAsync(gateway.Client, "echo", "new");

            // The first batch written also applies retention: only the new row is left.
            await UsageAsync(gateway, "?from=2000-01-01", s => Total(s, "requests") == 1);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("admin/v1/usage?group_by=everything", "group_by")]
    [InlineData("admin/v1/usage?from=yesterday", "from")]
    [InlineData("admin/v1/usage?from=2026-02-01&to=2026-01-01", "from")]
    [InlineData("admin/v1/usage/records?limit=0", "limit")]
    [InlineData("admin/v1/usage/records?limit=1001", "limit")]
    [InlineData("admin/v1/usage/records?before=abc", "before")]
    public async Task Admin_BadQuery_Is400NamingTheParameter(string path, string param)
    {
        await using var gateway = await StartAsync();
        using var admin = gateway.CreateClient(GatewayInstance.AdminKey);

        using var response = await admin.GetAsync(path);

        await ErrorTests.AssertErrorAsync(response, 400, param, "invalid_value");
    }

    [Fact]
    public async Task Admin_UsageNeedsTheAdminKey_AndAnswersOnlyGet()
    {
        await using var gateway = await StartAsync();

        using var asCaller = await gateway.Client.GetAsync("admin/v1/usage");
        using var admin = gateway.CreateClient(GatewayInstance.AdminKey);
        using var post = await admin.PostAsync("admin/v1/usage/records", ProxyTests.Json("{}"));

        await ErrorTests.AssertErrorAsync(asCaller, 401, null, "invalid_api_key");
        await ErrorTests.AssertErrorAsync(post, 405, null, "method_not_allowed");
    }

    [Fact]
    public async Task Disabled_NoDatabase_AndTheApiSaysSo()
    {
        await using var gateway = await StartAsync("--UsageLedger:Enabled=false");
        await ChatAsync(gateway.Client, "echo", "not recorded");
        using var admin = gateway.CreateClient(GatewayInstance.AdminKey);

        using var response = await admin.GetAsync("admin/v1/usage");

        await ErrorTests.AssertErrorAsync(response, 404, null, "usage_ledger_disabled");
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(gateway.ConfigPath)!, "usage.db")));
    }

    [Fact]
    public void BadSettings_StopTheStart_NamingEachOne()
    {
        var error = Assert.Throws<GatewayConfigException>(() => GatewayApp.Build(
        [
            "--urls=http://127.0.0.1:0", $"--AIGATEWAY_CONFIG={WriteConfig()}",
            "--UsageLedger:BatchSize=0", "--UsageLedger:BufferCapacity=-1",
        ]));

        Assert.Contains("UsageLedger:BatchSize", error.Message, StringComparison.Ordinal);
        Assert.Contains("UsageLedger:BufferCapacity", error.Message, StringComparison.Ordinal);
    }

    private static string WriteConfig()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("aigw-test-").FullName, "gateway.json");
        File.WriteAllText(path, Config().ToJsonString());
        return path;
    }
}
