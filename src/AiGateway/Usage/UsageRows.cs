using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using SQLitePCL;

namespace AiGateway.Usage;

/// <summary>Bulk writes of <see cref="UsageRecord"/> rows in the column layout <see cref="UsageDbContext"/> declares.</summary>
internal static class UsageRows
{
    // Every column but the generated id, in one order for both writers.
    private static readonly string[] Columns =
    [
        "timestamp_utc", "request_id", "caller", "team", "model", "deployment", "operation", "stream", "status", "error_type",
        "prompt_tokens", "completion_tokens", "cached_tokens", "usage_source", "cost_usd", "cache", "duration_ms", "attempts",
    ];

    /// <summary>EF Core's SQLite text form of a <see cref="DateTime"/>, so rows written here compare and sort like its own.</summary>
    public const string SqliteDateTimeFormat = "yyyy-MM-dd HH:mm:ss.FFFFFFF";

    private static readonly string CopyCommand =
        $"COPY {UsageDbContext.Table} ({string.Join(", ", Columns)}) FROM STDIN (FORMAT BINARY)";

    // Adds a batch's spend to the day's total; the same statement on SQLite (3.24+) and PostgreSQL.
    private static readonly string SpendCommand =
        $"INSERT INTO {UsageDbContext.SpendTable} (scope, name, day, cost_usd) VALUES ($1, $2, $3, $4) " +
        $"ON CONFLICT (scope, name, day) DO UPDATE SET cost_usd = {UsageDbContext.SpendTable}.cost_usd + excluded.cost_usd";

    private static readonly string InsertCommand =
        $"INSERT INTO {UsageDbContext.Table} ({string.Join(", ", Columns)}) VALUES ({string.Join(", ", Columns.Select(_ => "?"))})";

    /// <summary>The batch by binary <c>COPY</c>, and its spend, in one transaction.</summary>
    public static void Copy(NpgsqlConnection connection, List<UsageRecord> batch)
    {
        using var transaction = connection.BeginTransaction();
        using (var copy = connection.BeginBinaryImport(CopyCommand))
        {
            WriteRows(copy, batch);
            copy.Complete();
        }
        foreach (var ((scope, name, day), cost) in Spend(batch))
        {
            using var upsert = new NpgsqlCommand(SpendCommand, connection, transaction);
            upsert.Parameters.Add(new NpgsqlParameter { Value = scope, NpgsqlDbType = NpgsqlDbType.Varchar });
            upsert.Parameters.Add(new NpgsqlParameter { Value = name, NpgsqlDbType = NpgsqlDbType.Varchar });
            upsert.Parameters.Add(new NpgsqlParameter { Value = day, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            upsert.Parameters.Add(new NpgsqlParameter { Value = cost, NpgsqlDbType = NpgsqlDbType.Double });
            upsert.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    private static void WriteRows(NpgsqlBinaryImporter copy, List<UsageRecord> batch)
    {
        foreach (var r in batch)
        {
            copy.StartRow();
            copy.Write(DateTime.SpecifyKind(r.TimestampUtc, DateTimeKind.Utc), NpgsqlDbType.TimestampTz);
            copy.Write(r.RequestId, NpgsqlDbType.Varchar);
            copy.Write(r.Caller, NpgsqlDbType.Varchar);
            WriteNullable(copy, r.Team);
            copy.Write(r.Model, NpgsqlDbType.Varchar);
            WriteNullable(copy, r.Deployment);
            copy.Write(r.Operation, NpgsqlDbType.Varchar);
            copy.Write(r.Stream, NpgsqlDbType.Boolean);
            copy.Write(r.Status, NpgsqlDbType.Integer);
            WriteNullable(copy, r.ErrorType);
            copy.Write(r.PromptTokens, NpgsqlDbType.Integer);
            copy.Write(r.CompletionTokens, NpgsqlDbType.Integer);
            copy.Write(r.CachedTokens, NpgsqlDbType.Integer);
            copy.Write(r.UsageSource, NpgsqlDbType.Varchar);
            copy.Write(r.CostUsd, NpgsqlDbType.Double);
            copy.Write(r.Cache, NpgsqlDbType.Varchar);
            copy.Write(r.DurationMs, NpgsqlDbType.Double);
            copy.Write(r.Attempts, NpgsqlDbType.Integer);
        }
    }

    /// <summary>
    /// One statement prepared once and stepped per row in one transaction, bound through SQLite's own API:
    /// ADO.NET's per-row command machinery cost twice what SQLite's insert itself costs. <c>synchronous=NORMAL</c>
    /// (with the WAL journal the schema step sets): a commit no longer waits for the disk, only checkpoints do;
    /// a power cut may lose the last batches, a crash of the gateway loses nothing committed.
    /// </summary>
    public static void Insert(SqliteConnection connection, List<UsageRecord> batch)
    {
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA synchronous=NORMAL";
            pragma.ExecuteNonQuery();
        }
        using var transaction = connection.BeginTransaction();
        var db = connection.Handle!;
        Check(db, raw.sqlite3_prepare_v2(db, InsertCommand, out var statement));
        using (statement)
        {
            foreach (var r in batch)
            {
                raw.sqlite3_bind_text(statement, 1, r.TimestampUtc.ToString(SqliteDateTimeFormat, CultureInfo.InvariantCulture));
                raw.sqlite3_bind_text(statement, 2, r.RequestId);
                raw.sqlite3_bind_text(statement, 3, r.Caller);
                BindNullable(statement, 4, r.Team);
                raw.sqlite3_bind_text(statement, 5, r.Model);
                BindNullable(statement, 6, r.Deployment);
                raw.sqlite3_bind_text(statement, 7, r.Operation);
                raw.sqlite3_bind_int(statement, 8, r.Stream ? 1 : 0);
                raw.sqlite3_bind_int(statement, 9, r.Status);
                BindNullable(statement, 10, r.ErrorType);
                raw.sqlite3_bind_int(statement, 11, r.PromptTokens);
                raw.sqlite3_bind_int(statement, 12, r.CompletionTokens);
                raw.sqlite3_bind_int(statement, 13, r.CachedTokens);
                raw.sqlite3_bind_text(statement, 14, r.UsageSource);
                raw.sqlite3_bind_double(statement, 15, r.CostUsd);
                raw.sqlite3_bind_text(statement, 16, r.Cache);
                raw.sqlite3_bind_double(statement, 17, r.DurationMs);
                raw.sqlite3_bind_int(statement, 18, r.Attempts);
                var step = raw.sqlite3_step(statement);
                raw.sqlite3_reset(statement);
                if (step != raw.SQLITE_DONE) Check(db, step);
            }
        }
        var spend = Spend(batch);
        if (spend.Count > 0)
        {
            using var upsert = connection.CreateCommand();
            upsert.Transaction = transaction;
            upsert.CommandText = SpendCommand;
            var values = new DbParameter[4];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = upsert.CreateParameter();
                values[i].ParameterName = "$" + (i + 1);
                upsert.Parameters.Add(values[i]);
            }
            foreach (var ((scope, name, day), cost) in spend)
            {
                values[0].Value = scope;
                values[1].Value = name;
                values[2].Value = day.ToString(SqliteDateTimeFormat, CultureInfo.InvariantCulture);
                values[3].Value = cost;
                upsert.ExecuteNonQuery();
            }
        }
        transaction.Commit();
    }

    private sealed class SpendOrder : IComparer<(string Scope, string Name, DateTime Day)>
    {
        public static readonly SpendOrder Instance = new();

        public int Compare((string Scope, string Name, DateTime Day) x, (string Scope, string Name, DateTime Day) y)
        {
            var order = string.CompareOrdinal(x.Scope, y.Scope);
            if (order == 0) order = string.CompareOrdinal(x.Name, y.Name);
            return order != 0 ? order : x.Day.CompareTo(y.Day);
        }
    }

    private static void BindNullable(sqlite3_stmt statement, int index, string? value)
    {
        if (value is null) raw.sqlite3_bind_null(statement, index); else raw.sqlite3_bind_text(statement, index, value);
    }

    /// <summary>A failed SQLite call as the <see cref="SqliteException"/> Microsoft.Data.Sqlite would have thrown.</summary>
    private static void Check(sqlite3 db, int result)
    {
        if (result is raw.SQLITE_OK or raw.SQLITE_DONE or raw.SQLITE_ROW) return;
        throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), result, raw.sqlite3_extended_errcode(db));
    }

    /// <summary>A batch's cost per key and per team and UTC day: a few sums, whatever the batch's size.</summary>
    /// <remarks>
    /// Sorted, so every replica's transaction takes the rows' locks in one order: in arrival order, two replicas
    /// upserting the same keys and team could deadlock each other on PostgreSQL.
    /// </remarks>
    internal static SortedDictionary<(string Scope, string Name, DateTime Day), double> Spend(List<UsageRecord> batch)
    {
        var spend = new SortedDictionary<(string, string, DateTime), double>(SpendOrder.Instance);
        foreach (var r in batch)
        {
            if (r.CostUsd <= 0) continue;
            var day = DateTime.SpecifyKind(r.TimestampUtc.Date, DateTimeKind.Utc);
            var key = (SpendDaily.KeyScope, r.Caller, day);
            spend[key] = spend.GetValueOrDefault(key) + r.CostUsd;
            if (r.Team is not null)
            {
                var team = (SpendDaily.TeamScope, r.Team, day);
                spend[team] = spend.GetValueOrDefault(team) + r.CostUsd;
            }
        }
        return spend;
    }

    private static void WriteNullable(NpgsqlBinaryImporter copy, string? value)
    {
        if (value is null) copy.WriteNull(); else copy.Write(value, NpgsqlDbType.Varchar);
    }
}
