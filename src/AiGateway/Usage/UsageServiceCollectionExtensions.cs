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
        if (!options.Enabled) return builder;

        var postgres = builder.Configuration.GetConnectionString(UsageLedgerOptions.PostgresConnectionStringName);
        if (string.IsNullOrWhiteSpace(postgres))
        {
            var path = Path.GetFullPath(options.SqlitePath);
            builder.Services.AddPooledDbContextFactory<UsageDbContext>(db => db.UseSqlite($"Data Source={path};Pooling=True"));
            builder.Services.AddSingleton(new UsageStore("sqlite", path));
        }
        else
        {
            builder.Services.AddPooledDbContextFactory<UsageDbContext>(db => db.UseNpgsql(postgres));
            builder.Services.AddSingleton(new UsageStore("postgresql", null));
        }
        builder.Services.AddSingleton<UsageLedger>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UsageLedger>());
        return builder;
    }
}

/// <summary>Which database the ledger writes to, for the admin API; the SQLite path, never a connection string.</summary>
internal sealed record UsageStore(string Provider, string? SqlitePath);
