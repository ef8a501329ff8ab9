using AiGateway.Configuration;
using Microsoft.EntityFrameworkCore;

namespace AiGateway.Usage;

internal static class UsageServiceCollectionExtensions
{
    /// <summary>
    /// The usage ledger: PostgreSQL when <c>ConnectionStrings:Postgres</c> is set, else a SQLite file;
    /// nothing at all with <c>UsageLedger:Enabled=false</c>.
    /// </summary>
    public static WebApplicationBuilder AddUsageLedger(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(UsageLedgerOptions.SectionName).Get<UsageLedgerOptions>() ?? new UsageLedgerOptions();
        var errors = options.Validate();
        if (errors.Count > 0) throw new GatewayConfigException(errors);
        builder.Services.AddSingleton(options);
        if (!options.Enabled)
        {
            builder.Services.AddHostedService<BudgetsUnenforcedNotice>();
            return builder;
        }

        var postgres = builder.Configuration.GetConnectionString(UsageLedgerOptions.PostgresConnectionStringName);
        if (string.IsNullOrWhiteSpace(postgres))
        {
            var path = Path.GetFullPath(options.SqlitePath);
            var connection = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
            builder.Services.AddPooledDbContextFactory<UsageDbContext>(db => db.UseSqlite(connection));
            builder.Services.AddSingleton(new UsageStore("sqlite", path));
        }
        else
        {
            builder.Services.AddPooledDbContextFactory<UsageDbContext>(db => db.UseNpgsql(postgres));
            builder.Services.AddSingleton(new UsageStore("postgresql", null));
        }
        builder.Services.AddSingleton<UsageLedger>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UsageLedger>());
        builder.Services.AddSingleton<BudgetTracker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BudgetTracker>());
        return builder;
    }
}

/// <summary>Budgets are read from the ledger: with it off, a configured budget binds nobody, which is said once at start-up.</summary>
internal sealed partial class BudgetsUnenforcedNotice(GatewayConfigStore config, ILogger<BudgetsUnenforcedNotice> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (config.Current.HasBudgets) LogUnenforced(logger);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1306, Level = LogLevel.Warning, Message = "Budgets are configured but the usage ledger is off (UsageLedger:Enabled=false): they are not enforced")]
    private static partial void LogUnenforced(ILogger logger);
}

/// <summary>Which database the ledger writes to, for the admin API; the SQLite path, never a connection string.</summary>
internal sealed record UsageStore(string Provider, string? SqlitePath);
