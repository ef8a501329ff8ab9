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

    public static async Task CopyAsync(NpgsqlConnection connection, List<UsageRecord> batch, CancellationToken ct)
    {
        await using var copy = await connection.BeginBinaryImportAsync(CopyCommand, ct);
        foreach (var r in batch)
        {
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(DateTime.SpecifyKind(r.TimestampUtc, DateTimeKind.Utc), NpgsqlDbType.TimestampTz, ct);
            await copy.WriteAsync(r.RequestId, NpgsqlDbType.Varchar, ct);
            await copy.WriteAsync(r.Caller, NpgsqlDbType.Varchar, ct);
            await WriteNullableAsync(copy, r.Team, ct);
            await copy.WriteAsync(r.Model, NpgsqlDbType.Varchar, ct);
            await WriteNullableAsync(copy, r.Deployment, ct);
            await copy.WriteAsync(r.Operation, NpgsqlDbType.Varchar, ct);
            await copy.WriteAsync(r.Stream, NpgsqlDbType.Boolean, ct);
            await copy.WriteAsync(r.Status, NpgsqlDbType.Integer, ct);
            await WriteNullableAsync(copy, r.ErrorType, ct);
            await copy.WriteAsync(r.PromptTokens, NpgsqlDbType.Integer, ct);
            await copy.WriteAsync(r.CompletionTokens, NpgsqlDbType.Integer, ct);
            await copy.WriteAsync(r.CachedTokens, NpgsqlDbType.Integer, ct);
            await copy.WriteAsync(r.UsageSource, NpgsqlDbType.Varchar, ct);
            await copy.WriteAsync(r.CostUsd, NpgsqlDbType.Double, ct);
            await copy.WriteAsync(r.Cache, NpgsqlDbType.Varchar, ct);
            await copy.WriteAsync(r.DurationMs, NpgsqlDbType.Double, ct);
            await copy.WriteAsync(r.Attempts, NpgsqlDbType.Integer, ct);
        }
        await copy.CompleteAsync(ct);
    }

    public static async Task InsertAsync(DbConnection connection, List<UsageRecord> batch, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = InsertCommand;
        var parameters = new DbParameter[Columns.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            parameters[i] = command.CreateParameter();
            parameters[i].ParameterName = "$p" + i;
            command.Parameters.Add(parameters[i]);
        }
        await command.PrepareAsync(ct);
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
            await command.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
    }

    private static Task WriteNullableAsync(NpgsqlBinaryImporter copy, string? value, CancellationToken ct) =>
        value is null ? copy.WriteNullAsync(ct) : copy.WriteAsync(value, NpgsqlDbType.Varchar, ct);
}
