using Microsoft.EntityFrameworkCore;

namespace AiGateway.Usage;

/// <summary>The usage ledger's database: SQLite on one machine, PostgreSQL shared by replicas.</summary>
internal sealed class UsageDbContext(DbContextOptions<UsageDbContext> options) : DbContext(options)
{
    public const string Table = "usage_records";

    public DbSet<UsageRecord> Records => Set<UsageRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var record = modelBuilder.Entity<UsageRecord>();
        record.ToTable(Table);
        record.HasKey(r => r.Id);
        record.Property(r => r.Id).HasColumnName("id");
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
        record.HasIndex(r => r.TimestampUtc).HasDatabaseName("ix_usage_records_timestamp");
        record.HasIndex(r => new { r.Caller, r.TimestampUtc }).HasDatabaseName("ix_usage_records_caller_timestamp");
        record.HasIndex(r => new { r.Model, r.TimestampUtc }).HasDatabaseName("ix_usage_records_model_timestamp");
    }
}
