using BenchmarkDotNet.Attributes;
using AiGateway.Usage;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace AiGateway.Benchmarks;

/// <summary>
/// The usage ledger's writer: the cost of one row written in a batch of 500 to SQLite (the one-machine store),
/// the CPU the ledger adds per request besides queueing it.
/// </summary>
[MemoryDiagnoser]
public class LedgerBenchmarks
{
    private const int BatchSize = 500;
    private readonly List<UsageRecord> _batch = [];
    private string _path = "";
    private SqliteConnection _connection = null!;

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), $"aigw-ledger-bench-{Guid.NewGuid():N}.db");
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _path, Pooling = true }.ToString());
        _connection.Open();
        // The production schema, as the ledger creates it on SQLite.
        using (var db = new UsageDbContext(new DbContextOptionsBuilder<UsageDbContext>().UseSqlite(_connection).Options))
        {
            db.Database.ExecuteSqlRaw("PRAGMA journal_mode=WAL");
            foreach (var statement in db.Database.GenerateCreateScript().Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (statement.Length > 0) db.Database.ExecuteSqlRaw(statement);
            }
        }
        for (var i = 0; i < BatchSize; i++)
        {
            _batch.Add(new UsageRecord
            {
                TimestampUtc = DateTime.UtcNow,
                RequestId = "req_" + Guid.NewGuid().ToString("N"),
                Caller = "team-a-service",
                Team = "team-a",
                Model = "gpt-4o-mini",
                Deployment = "openai/gpt-4o-mini",
                Operation = "chat",
                Status = 200,
                PromptTokens = 812,
                CompletionTokens = 127,
                UsageSource = "reported",
                CostUsd = 0.000198, // priced: each batch also adds to the day's spend
                Cache = "miss",
                DurationMs = 812.5,
                Attempts = 1,
            });
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _connection.Dispose();
        SqliteConnection.ClearAllPools();
        File.Delete(_path);
    }

    /// <summary>One batch; divide by 500 for the cost per row (per request).</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void SqliteBatchOf500() => UsageRows.Insert(_connection, _batch);
}
