namespace AiGateway.Usage;

/// <summary>Usage ledger settings, section <c>UsageLedger</c>; the database is PostgreSQL when <c>ConnectionStrings:Postgres</c> is set.</summary>
internal sealed record UsageLedgerOptions
{
    public const string SectionName = "UsageLedger";

    /// <summary>The connection string that selects PostgreSQL.</summary>
    public const string PostgresConnectionStringName = "Postgres";

    /// <summary>Record usage at all.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>The SQLite file used without PostgreSQL; relative paths are from the working directory. Its folder is created.</summary>
    public string SqlitePath { get; init; } = "data/aigateway-usage.db";

    /// <summary>Records written per database round trip, at most.</summary>
    public int BatchSize { get; init; } = 500;

    /// <summary>How long a record may wait for its batch.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Records held in memory while the database is slow or down; past this, new records are dropped and counted.</summary>
    public int BufferCapacity { get; init; } = 100_000;

    /// <summary>How often key and team budgets re-read the ledger's sums (other replicas' spend shows within this).</summary>
    public TimeSpan BudgetRefreshInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Rows older than this many days are deleted (checked hourly); null keeps them forever.</summary>
    public int? RetentionDays { get; init; }

    /// <summary>How long shutdown waits for the last records to be written.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public List<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(SqlitePath)) errors.Add($"{SectionName}:SqlitePath must not be empty.");
        if (BatchSize is < 1 or > 10_000) errors.Add($"{SectionName}:BatchSize must be between 1 and 10000 (was {BatchSize}).");
        if (FlushInterval <= TimeSpan.Zero || FlushInterval > TimeSpan.FromMinutes(1)) errors.Add($"{SectionName}:FlushInterval must be above 0 and at most 1 minute (was {FlushInterval}).");
        if (BufferCapacity is < 1 or > 10_000_000) errors.Add($"{SectionName}:BufferCapacity must be between 1 and 10000000 (was {BufferCapacity}).");
        if (RetentionDays is < 1 or > 36_600) errors.Add($"{SectionName}:RetentionDays must be between 1 and 36600 (was {RetentionDays}).");
        if (BudgetRefreshInterval < TimeSpan.FromMilliseconds(10) || BudgetRefreshInterval > TimeSpan.FromMinutes(5)) errors.Add($"{SectionName}:BudgetRefreshInterval must be between 10 ms and 5 minutes (was {BudgetRefreshInterval}).");
        if (ShutdownTimeout < TimeSpan.Zero || ShutdownTimeout > TimeSpan.FromMinutes(5)) errors.Add($"{SectionName}:ShutdownTimeout must be between 0 and 5 minutes (was {ShutdownTimeout}).");
        return errors;
    }
}
