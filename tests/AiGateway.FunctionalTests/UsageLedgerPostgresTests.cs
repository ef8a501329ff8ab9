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
        Assert.Equal(DateTime.UtcNow.ToString("yyyy-MM-dd"), Assert.Single(byDay.GetProperty("data").EnumerateArray()).GetProperty("group").GetString());
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
