using System.Net;
using AiGateway.FunctionalTests.Infrastructure;
using AiGateway.Usage;
using Microsoft.Extensions.DependencyInjection;

namespace AiGateway.FunctionalTests;

/// <summary>The usage ledger on a real PostgreSQL: shared by replicas, and kept through an outage.</summary>
public sealed class UsageLedgerPostgresTests : IAsyncLifetime
{
    private PostgresServer _postgres = null!;

    public async Task InitializeAsync()
    {
        Assert.True(PostgresServer.BinDirectory is not null, PostgresServer.MissingReason);
        _postgres = await PostgresServer.StartAsync();
    }

    public async Task DisposeAsync() => await _postgres.DisposeAsync();

    private Task<GatewayInstance> StartAsync() =>
        GatewayInstance.StartAsync(UsageLedgerTests.Config().ToJsonString(),
            [.. TestConfig.Credentials, $"--ConnectionStrings:Postgres={_postgres.ConnectionString}", "--UsageLedger:FlushInterval=00:00:00.050"]);

    private static async Task ChatAsync(GatewayInstance gateway, string text)
    {
        using var response = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json($$"""{"model":"echo-priced","messages":[{"role":"user","content":"{{text}}"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TwoReplicas_WriteOneLedger_EitherSumsBoth()
    {
        // Started together: both create the table at once, which must not trip either.
        var started = await Task.WhenAll(StartAsync(), StartAsync());
        await using var a = started[0];
        await using var b = started[1];

        for (var i = 0; i < 4; i++) await ChatAsync(a, $"from a {i}");
        for (var i = 0; i < 3; i++) await ChatAsync(b, $"from b {i}");

        var summary = await UsageLedgerTests.UsageAsync(b, "?group_by=model", s => s.GetProperty("total").GetProperty("requests").GetInt64() == 7);
        Assert.Equal("postgresql", summary.GetProperty("store").GetString());
        Assert.True(summary.GetProperty("total").GetProperty("cost_usd").GetDouble() > 0);
        var byDay = await UsageLedgerTests.UsageAsync(a, "?group_by=day", _ => true);
        // Days in UTC from the database's own grouping: today's (or, run across midnight, yesterday's too).
        var days = byDay.GetProperty("data").EnumerateArray().Select(g => g.GetProperty("group").GetString()).ToList();
        Assert.Equal(7, byDay.GetProperty("data").EnumerateArray().Sum(g => g.GetProperty("requests").GetInt64()));
        string[] recent = [DateTime.UtcNow.ToString("yyyy-MM-dd"), DateTime.UtcNow.AddMinutes(-5).ToString("yyyy-MM-dd")];
        Assert.All(days, day => Assert.Contains(day, recent));
    }

    [Fact]
    public async Task Budget_SpentOnOneReplica_RefusesOnTheOther()
    {
        var config = BudgetTests.Config().ToJsonString();
        string[] settings = [.. TestConfig.Credentials, $"--ConnectionStrings:Postgres={_postgres.ConnectionString}",
            "--UsageLedger:FlushInterval=00:00:00.050", "--UsageLedger:BudgetRefreshInterval=00:00:00.100"];
        await using var a = await GatewayInstance.StartAsync(config, settings);
        await using var b = await GatewayInstance.StartAsync(config, settings);
        using var spenderOnA = a.CreateClient(BudgetTests.SpenderKey);
        using var spenderOnB = b.CreateClient(BudgetTests.SpenderKey);
        const string body = """{"model":"echo-priced","messages":[{"role":"user","content":"spend on one replica"}]}""";

        using (var spent = await spenderOnA.PostAsync("v1/chat/completions", ProxyTests.Json(body)))
        {
            Assert.Equal(HttpStatusCode.OK, spent.StatusCode);
        }

        // Once A's row is in the shared ledger, B's next sum (every 100 ms) holds it: B's very first request is refused.
        await UsageLedgerTests.UsageAsync(a, "", s => s.GetProperty("total").GetProperty("requests").GetInt64() == 1);
        await Task.Delay(1_000);
        using var refused = await spenderOnB.PostAsync("v1/chat/completions", ProxyTests.Json(body));
        await ErrorTests.AssertErrorAsync(refused, 429, null, "insufficient_quota");
    }

    [Fact]
    public async Task RowsTheDatabaseRefuses_AreDroppedOneByOne_TheRestAreWritten()
    {
        await using var gateway = await StartAsync();
        await ChatAsync(gateway, "creates the table");
        await UsageLedgerTests.UsageAsync(gateway, "", s => s.GetProperty("total").GetProperty("requests").GetInt64() == 1);
        // A constraint the rows of one model break (what a too-long value or a type mismatch would do): class 23.
        await using (var connection = new Npgsql.NpgsqlConnection(_postgres.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand("ALTER TABLE usage_records ADD CONSTRAINT test_refuse_echo CHECK (model <> 'echo')", connection);
            await command.ExecuteNonQueryAsync();
        }

        for (var i = 0; i < 3; i++)
        {
            await ChatAsync(gateway, $"priced {i}");
            using var refused = await gateway.Client.PostAsync("v1/chat/completions", ProxyTests.Json("""{"model":"echo","messages":[{"role":"user","content":"refused"}]}"""));
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        }

        await UsageLedgerTests.UsageAsync(gateway, "", s => s.GetProperty("total").GetProperty("requests").GetInt64() == 4);
        var ledger = gateway.Services.GetRequiredService<UsageLedger>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (ledger.Dropped < 3 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(3, ledger.Dropped);
        // The ledger is not stuck behind them.
        await ChatAsync(gateway, "after");
        await UsageLedgerTests.UsageAsync(gateway, "", s => s.GetProperty("total").GetProperty("requests").GetInt64() == 5);
    }

    [Fact]
    public async Task DatabaseDownAtStart_AdminIs503_RequestsAreServed_RowsWrittenWhenItComes()
    {
        await _postgres.StopAsync();
        await using var gateway = await StartAsync();
        await ChatAsync(gateway, "while down");
        using (var admin = gateway.CreateClient(GatewayInstance.AdminKey))
        using (var unavailable = await admin.GetAsync("admin/v1/usage"))
        {
            await ErrorTests.AssertErrorAsync(unavailable, 503, null, "usage_ledger_unavailable");
        }

        await _postgres.RestartAsync();

        await UsageLedgerTests.UsageAsync(gateway, "", s => s.GetProperty("total").GetProperty("requests").GetInt64() == 1);
    }

    [Fact]
    public async Task DatabaseDown_RequestsAreServed_AndTheirRowsAreWrittenWhenItReturns()
    {
        await using var gateway = await StartAsync();
        await ChatAsync(gateway, "before");
        await UsageLedgerTests.UsageAsync(gateway, "", s => s.GetProperty("total").GetProperty("requests").GetInt64() == 1);

        await _postgres.StopAsync();
        for (var i = 0; i < 5; i++) await ChatAsync(gateway, $"during {i}");
        await Task.Delay(500); // the writer tries, fails and backs off
        var ledger = gateway.Services.GetRequiredService<UsageLedger>();
        Assert.Equal(1, ledger.Written);
        using (var admin = gateway.CreateClient(GatewayInstance.AdminKey))
        using (var unavailable = await admin.GetAsync("admin/v1/usage"))
        {
            await ErrorTests.AssertErrorAsync(unavailable, 503, null, "usage_ledger_unavailable");
        }
        await _postgres.RestartAsync();

        await UsageLedgerTests.UsageAsync(gateway, "", s => s.GetProperty("total").GetProperty("requests").GetInt64() == 6);
        Assert.Equal(0, ledger.Dropped);
    }
}
