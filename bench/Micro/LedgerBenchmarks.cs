using BenchmarkDotNet.Attributes;
using AiGateway.Usage;
using Microsoft.Data.Sqlite;

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
        using (var create = _connection.CreateCommand())
        {
            create.CommandText = """
                PRAGMA journal_mode=WAL;
                CREATE TABLE usage_records (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, timestamp_utc TEXT NOT NULL, request_id TEXT NOT NULL,
                  caller TEXT NOT NULL, team TEXT NULL, model TEXT NOT NULL, deployment TEXT NULL, operation TEXT NOT NULL, stream INTEGER NOT NULL,
                  status INTEGER NOT NULL, error_type TEXT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
                  cached_tokens INTEGER NOT NULL, usage_source TEXT NOT NULL, cost_usd REAL NOT NULL, cache TEXT NOT NULL, duration_ms REAL NOT NULL,
                  attempts INTEGER NOT NULL);
                CREATE INDEX ix_usage_records_timestamp ON usage_records (timestamp_utc);
                CREATE INDEX ix_usage_records_caller_timestamp ON usage_records (caller, timestamp_utc);
                CREATE INDEX ix_usage_records_model_timestamp ON usage_records (model, timestamp_utc);
                """;
            create.ExecuteNonQuery();
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
                CostUsd = 0.000198,
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
