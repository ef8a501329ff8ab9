using AiGateway.Usage;
using Microsoft.EntityFrameworkCore;

namespace AiGateway.Tests.Usage;

/// <summary>
/// The ledger's tables as each database gets them: on SQLite the gateway pays for every index on every
/// request, so the rows have none (and no AUTOINCREMENT); on PostgreSQL the server pays and a timestamp index
/// serves the admin API's ranges. Both get the daily spend table budgets read.
/// </summary>
public sealed class UsageSchemaTests
{
    private static string Script(Action<DbContextOptionsBuilder<UsageDbContext>> provider)
    {
        var options = new DbContextOptionsBuilder<UsageDbContext>();
        provider(options);
        using var db = new UsageDbContext(options.Options);
        return db.Database.GenerateCreateScript();
    }

    [Fact]
    public void Sqlite_RowsHaveNoSecondaryIndex_NorAutoincrement()
    {
        var script = Script(o => o.UseSqlite("Data Source=:memory:"));

        Assert.Contains("CREATE TABLE \"usage_records\"", script, StringComparison.Ordinal);
        Assert.Contains("CREATE TABLE \"usage_spend_daily\"", script, StringComparison.Ordinal);
        Assert.DoesNotContain("CREATE INDEX", script, StringComparison.Ordinal);
        Assert.DoesNotContain("AUTOINCREMENT", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Postgres_RowsHaveATimestampIndex_AndBoundedColumns()
    {
        var script = Script(o => o.UseNpgsql("Host=localhost"));

        Assert.Contains("CREATE INDEX ix_usage_records_timestamp ON usage_records (timestamp_utc)", script, StringComparison.Ordinal);
        Assert.Contains("caller character varying(256) NOT NULL", script, StringComparison.Ordinal);
        Assert.Contains("timestamp_utc timestamp with time zone NOT NULL", script, StringComparison.Ordinal);
        Assert.Contains("PRIMARY KEY (scope, name, day)", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Spend_SumsABatchPerKeyTeamAndDay_SkippingFreeRows()
    {
        var day = new DateTime(2026, 11, 30, 23, 59, 0, DateTimeKind.Utc);
        List<UsageRecord> batch =
        [
            new() { TimestampUtc = day, Caller = "a", Team = "t", CostUsd = 0.25 },
            new() { TimestampUtc = day, Caller = "a", Team = "t", CostUsd = 0.5 },
            new() { TimestampUtc = day.AddMinutes(2), Caller = "b", Team = "t", CostUsd = 1 },
            new() { TimestampUtc = day, Caller = "c", CostUsd = 0 },
        ];

        var spend = UsageRows.Spend(batch);

        Assert.Equal(0.75, spend[("key", "a", day.Date)]);
        Assert.Equal(0.75, spend[("team", "t", day.Date)]);
        Assert.Equal(1, spend[("key", "b", day.Date.AddDays(1))]);
        Assert.Equal(1, spend[("team", "t", day.Date.AddDays(1))]);
        Assert.Equal(4, spend.Count);
    }
}
