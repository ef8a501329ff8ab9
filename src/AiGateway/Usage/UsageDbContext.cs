using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace AiGateway.Usage;

/// <summary>The usage ledger's database: SQLite on one machine, PostgreSQL shared by replicas.</summary>
/// <remarks>
/// On SQLite the gateway itself pays for every index on every request (measured on this project's 2-core box:
/// a row costs about 3 µs of the writer's CPU, and each secondary index about 5 µs more), so its table has no
/// secondary index and no <c>AUTOINCREMENT</c> (a second B-tree write per row): the admin API's range queries scan,
/// which is fine at one machine's volume. On PostgreSQL the database server pays, and a timestamp index serves
/// the ranges. Budgets never read the rows: they read <see cref="SpendDaily"/>, kept in the same transaction.
/// </remarks>
internal sealed class UsageDbContext(DbContextOptions<UsageDbContext> options) : DbContext(options)
{
    public const string Table = "usage_records";
    public const string SpendTable = "usage_spend_daily";

    public DbSet<UsageRecord> Records => Set<UsageRecord>();

    public DbSet<SpendDaily> Spend => Set<SpendDaily>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var sqlite = Database.IsSqlite();
        var record = modelBuilder.Entity<UsageRecord>();
        record.ToTable(Table);
        record.HasKey(r => r.Id);
        record.Property(r => r.Id).HasColumnName("id");
        if (sqlite) record.Property(r => r.Id).HasAnnotation("Sqlite:ValueGenerationStrategy", SqliteValueGenerationStrategy.None);
        record.Property(r => r.TimestampUtc).HasColumnName("timestamp_utc");
        record.Property(r => r.RequestId).HasColumnName("request_id").HasMaxLength(UsageRecord.RequestIdLength);
        record.Property(r => r.Caller).HasColumnName("caller").HasMaxLength(UsageRecord.NameLength);
        record.Property(r => r.Team).HasColumnName("team").HasMaxLength(UsageRecord.NameLength);
        record.Property(r => r.Model).HasColumnName("model").HasMaxLength(UsageRecord.NameLength);
        record.Property(r => r.Deployment).HasColumnName("deployment").HasMaxLength(UsageRecord.DeploymentLength);
        record.Property(r => r.Operation).HasColumnName("operation").HasMaxLength(UsageRecord.OperationLength);
        record.Property(r => r.Stream).HasColumnName("stream");
        record.Property(r => r.Status).HasColumnName("status");
        record.Property(r => r.ErrorType).HasColumnName("error_type").HasMaxLength(UsageRecord.ErrorTypeLength);
        record.Property(r => r.PromptTokens).HasColumnName("prompt_tokens");
        record.Property(r => r.CompletionTokens).HasColumnName("completion_tokens");
        record.Property(r => r.CachedTokens).HasColumnName("cached_tokens");
        record.Property(r => r.UsageSource).HasColumnName("usage_source").HasMaxLength(UsageRecord.LabelLength);
        record.Property(r => r.CostUsd).HasColumnName("cost_usd");
        record.Property(r => r.Cache).HasColumnName("cache").HasMaxLength(UsageRecord.LabelLength);
        record.Property(r => r.DurationMs).HasColumnName("duration_ms");
        record.Property(r => r.Attempts).HasColumnName("attempts");
        if (!sqlite) record.HasIndex(r => r.TimestampUtc).HasDatabaseName("ix_usage_records_timestamp");

        var spend = modelBuilder.Entity<SpendDaily>();
        spend.ToTable(SpendTable);
        spend.HasKey(s => new { s.Scope, s.Name, s.Day });
        spend.Property(s => s.Scope).HasColumnName("scope").HasMaxLength(UsageRecord.LabelLength);
        spend.Property(s => s.Name).HasColumnName("name").HasMaxLength(UsageRecord.NameLength);
        spend.Property(s => s.Day).HasColumnName("day");
        spend.Property(s => s.CostUsd).HasColumnName("cost_usd");
    }
}

/// <summary>Dollars spent by one key or team on one UTC day: what budgets read, a few rows a day.</summary>
internal sealed class SpendDaily
{
    public const string KeyScope = "key";
    public const string TeamScope = "team";

    /// <summary><see cref="KeyScope"/> or <see cref="TeamScope"/>.</summary>
    public string Scope { get; set; } = "";

    public string Name { get; set; } = "";

    /// <summary>The UTC day, at midnight.</summary>
    public DateTime Day { get; set; }

    public double CostUsd { get; set; }
}
