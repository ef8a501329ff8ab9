using System.Data.Common;
using System.Globalization;
using Npgsql;
using NpgsqlTypes;

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

    private static readonly string InsertCommand =
        $"INSERT INTO {UsageDbContext.Table} ({string.Join(", ", Columns)}) VALUES ({string.Join(", ", Columns.Select((_, i) => "$p" + i))})";

    public static void Copy(NpgsqlConnection connection, List<UsageRecord> batch)
    {
        using var copy = connection.BeginBinaryImport(CopyCommand);
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
        copy.Complete();
    }

    /// <summary>
    /// One prepared statement run per row in one transaction. <c>synchronous=NORMAL</c> (with the WAL journal the
    /// schema step sets): a commit no longer waits for the disk, only checkpoints do; a power cut may lose the
    /// last batches, a crash of the gateway loses nothing committed.
    /// </summary>
    public static void Insert(DbConnection connection, List<UsageRecord> batch)
    {
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA synchronous=NORMAL";
            pragma.ExecuteNonQuery();
        }
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = InsertCommand;
        var parameters = new DbParameter[Columns.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            parameters[i] = command.CreateParameter();
            parameters[i].ParameterName = "$p" + i;
            command.Parameters.Add(parameters[i]);
        }
        command.Prepare();
        foreach (var r in batch)
        {
            parameters[0].Value = r.TimestampUtc.ToString(SqliteDateTimeFormat, CultureInfo.InvariantCulture);
            parameters[1].Value = r.RequestId;
            parameters[2].Value = r.Caller;
            parameters[3].Value = (object?)r.Team ?? DBNull.Value;
            parameters[4].Value = r.Model;
            parameters[5].Value = (object?)r.Deployment ?? DBNull.Value;
            parameters[6].Value = r.Operation;
            parameters[7].Value = r.Stream ? 1 : 0;
            parameters[8].Value = r.Status;
            parameters[9].Value = (object?)r.ErrorType ?? DBNull.Value;
            parameters[10].Value = r.PromptTokens;
            parameters[11].Value = r.CompletionTokens;
            parameters[12].Value = r.CachedTokens;
            parameters[13].Value = r.UsageSource;
            parameters[14].Value = r.CostUsd;
            parameters[15].Value = r.Cache;
            parameters[16].Value = r.DurationMs;
            parameters[17].Value = r.Attempts;
            command.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    private static void WriteNullable(NpgsqlBinaryImporter copy, string? value)
    {
        if (value is null) copy.WriteNull(); else copy.Write(value, NpgsqlDbType.Varchar);
    }
}
