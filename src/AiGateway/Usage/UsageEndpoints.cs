using System.Globalization;
using System.Linq.Expressions;
using System.Text.Json.Serialization;
using AiGateway.Protocol;
using Microsoft.EntityFrameworkCore;

namespace AiGateway.Usage;

/// <summary>
/// <c>GET /admin/v1/usage</c>: totals over a time range, optionally grouped (by caller, team, model,
/// deployment, operation or day) and filtered; <c>GET /admin/v1/usage/records</c>: the rows themselves,
/// newest first, paged by id. Admin key only. Both read the ledger's database, so with PostgreSQL they
/// see every replica's usage.
/// </summary>
internal static partial class UsageEndpoints
{
    public const int MaxRecords = 1000;

    /// <summary>How long a query waits for the ledger's table to exist (a database down since start-up): then a 503.</summary>
    private static readonly TimeSpan SchemaWait = TimeSpan.FromSeconds(5);
    private static readonly string[] Groupings = ["caller", "team", "model", "deployment", "operation", "day"];

    public static RouteGroupBuilder MapUsageAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/v1/usage", (HttpContext context, IServiceProvider services, TimeProvider time, ILogger<UsageLedger> logger, CancellationToken ct) =>
            GuardAsync(() => SummaryAsync(context, services, time, ct), logger));
        admin.MapGet("/v1/usage/records", (HttpContext context, IServiceProvider services, TimeProvider time, ILogger<UsageLedger> logger, CancellationToken ct) =>
            GuardAsync(() => RecordsAsync(context, services, time, ct), logger));
        return admin;
    }

    /// <summary>A database that is down or slow is a 503 the caller can retry, not a 500.</summary>
    private static async Task<IResult> GuardAsync(Func<Task<IResult>> query, ILogger logger)
    {
        try
        {
            return await query();
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or DbUpdateException
            || e is InvalidOperationException { InnerException: System.Data.Common.DbException or TimeoutException })
        {
            LogQueryFailed(logger, e.GetType().Name, e.Message);
            return OpenAiError.Result(503, "The usage ledger's database could not be reached; try again later.", OpenAiError.Server, null, "usage_ledger_unavailable");
        }
    }

    [LoggerMessage(EventId = 1304, Level = LogLevel.Warning, Message = "Usage ledger: a query failed ({ExceptionType}: {Reason})")]
    private static partial void LogQueryFailed(ILogger logger, string exceptionType, string reason);

    private static async Task<IResult> SummaryAsync(HttpContext context, IServiceProvider services, TimeProvider time, CancellationToken ct)
    {
        if (Ledger(services) is not { } ledger) return Disabled();
        var query = context.Request.Query;
        if (Range(query, time, out var from, out var to) is { } rangeError) return rangeError;
        var groupBy = query["group_by"].ToString();
        if (groupBy.Length > 0 && !Groupings.Contains(groupBy))
        {
            return OpenAiError.Result(400, $"Invalid 'group_by': '{OpenAiError.Echo(groupBy)}'. Supported values are: {string.Join(", ", Groupings.Select(g => $"'{g}'"))}.", OpenAiError.InvalidRequest, "group_by", "invalid_value");
        }

        await ledger.SchemaReady.WaitAsync(SchemaWait, ct);
        await using var db = await services.GetRequiredService<IDbContextFactory<UsageDbContext>>().CreateDbContextAsync(ct);
        var records = Filter(db.Records.AsNoTracking(), query).Where(r => r.TimestampUtc >= from && r.TimestampUtc < to);

        var total = (await Aggregate(records, r => 1).ToListAsync(ct)).Select(row => row.WithGroup(null)).SingleOrDefault() ?? UsageTotals.Empty;
        List<UsageTotals> data = groupBy switch
        {
            "caller" => await GroupAsync(records, r => r.Caller, ct),
            "team" => await GroupAsync(records, r => r.Team, ct),
            "model" => await GroupAsync(records, r => r.Model, ct),
            "deployment" => await GroupAsync(records, r => r.Deployment, ct),
            "operation" => await GroupAsync(records, r => r.Operation, ct),
            "day" => (await Aggregate(records, r => r.TimestampUtc.Date).ToListAsync(ct))
                .Select(row => row.WithGroup(row.Group.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))).ToList(),
            _ => [],
        };
        return Results.Json(
            new UsageSummary("usage.summary", services.GetRequiredService<UsageStore>().Provider, from, to, groupBy.Length > 0 ? groupBy : null,
                data.OrderBy(d => d.Group, StringComparer.Ordinal).ToList(), total),
            UsageJsonContext.Default.UsageSummary);
    }

    private static async Task<IResult> RecordsAsync(HttpContext context, IServiceProvider services, TimeProvider time, CancellationToken ct)
    {
        if (Ledger(services) is not { } ledger) return Disabled();
        var query = context.Request.Query;
        if (Range(query, time, out var from, out var to) is { } rangeError) return rangeError;
        var limit = 100;
        if (query.TryGetValue("limit", out var limitText) && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxRecords))
        {
            return OpenAiError.Result(400, $"Invalid 'limit': expected an integer from 1 to {MaxRecords}.", OpenAiError.InvalidRequest, "limit", "invalid_value");
        }
        long? before = null;
        if (query.TryGetValue("before", out var beforeText))
        {
            if (!long.TryParse(beforeText, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                return OpenAiError.Result(400, "Invalid 'before': expected a record id.", OpenAiError.InvalidRequest, "before", "invalid_value");
            }
            before = id;
        }

        await ledger.SchemaReady.WaitAsync(SchemaWait, ct);
        await using var db = await services.GetRequiredService<IDbContextFactory<UsageDbContext>>().CreateDbContextAsync(ct);
        var records = Filter(db.Records.AsNoTracking(), query).Where(r => r.TimestampUtc >= from && r.TimestampUtc < to);
        if (before is { } beforeId) records = records.Where(r => r.Id < beforeId);
        var page = await records.OrderByDescending(r => r.Id).Take(limit + 1).ToListAsync(ct);
        var hasMore = page.Count > limit;
        if (hasMore) page.RemoveAt(page.Count - 1);
        return Results.Json(new UsageRecordList("list", page.Select(UsageRecordView.From).ToList(), hasMore), UsageJsonContext.Default.UsageRecordList);
    }

    private static UsageLedger? Ledger(IServiceProvider services) => services.GetService<UsageLedger>();

    private static IResult Disabled() =>
        OpenAiError.Result(404, "The usage ledger is disabled (UsageLedger:Enabled=false).", OpenAiError.InvalidRequest, null, "usage_ledger_disabled");

    /// <summary><c>from</c> (default: 30 days ago) and <c>to</c> (default: now), ISO 8601; a time without an offset is UTC.</summary>
    private static IResult? Range(IQueryCollection query, TimeProvider time, out DateTime from, out DateTime to)
    {
        var now = time.GetUtcNow().UtcDateTime;
        from = now.AddDays(-30);
        to = now.AddSeconds(1);
        foreach (var (name, isFrom) in new[] { ("from", true), ("to", false) })
        {
            if (!query.TryGetValue(name, out var text)) continue;
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
            {
                return OpenAiError.Result(400, $"Invalid '{name}': expected an ISO 8601 date or time, such as 2026-11-01 or 2026-11-01T12:00:00Z.", OpenAiError.InvalidRequest, name, "invalid_value");
            }
            if (isFrom) from = value.UtcDateTime; else to = value.UtcDateTime;
        }
        return from < to ? null
            : OpenAiError.Result(400, "Invalid range: 'from' must be before 'to'.", OpenAiError.InvalidRequest, "from", "invalid_value");
    }

    private static IQueryable<UsageRecord> Filter(IQueryable<UsageRecord> records, IQueryCollection query)
    {
        if (query.TryGetValue("caller", out var caller)) { var value = caller.ToString(); records = records.Where(r => r.Caller == value); }
        if (query.TryGetValue("team", out var team)) { var value = team.ToString(); records = records.Where(r => r.Team == value); }
        if (query.TryGetValue("model", out var model)) { var value = model.ToString(); records = records.Where(r => r.Model == value); }
        return records;
    }

    private static async Task<List<UsageTotals>> GroupAsync(IQueryable<UsageRecord> records, Expression<Func<UsageRecord, string?>> key, CancellationToken ct) =>
        (await Aggregate(records, key).ToListAsync(ct)).Select(row => row.WithGroup(row.Group)).ToList();

    private static IQueryable<UsageRow<TKey>> Aggregate<TKey>(IQueryable<UsageRecord> records, Expression<Func<UsageRecord, TKey>> key) =>
        records.GroupBy(key).Select(g => new UsageRow<TKey>
        {
            Group = g.Key,
            Requests = g.LongCount(),
            Errors = g.LongCount(r => r.Status >= 400),
            PromptTokens = g.Sum(r => (long)r.PromptTokens),
            CompletionTokens = g.Sum(r => (long)r.CompletionTokens),
            CachedTokens = g.Sum(r => (long)r.CachedTokens),
            CostUsd = g.Sum(r => r.CostUsd),
        });

    private sealed class UsageRow<TKey>
    {
        public TKey Group { get; init; } = default!;
        public long Requests { get; init; }
        public long Errors { get; init; }
        public long PromptTokens { get; init; }
        public long CompletionTokens { get; init; }
        public long CachedTokens { get; init; }
        public double CostUsd { get; init; }

        public UsageTotals WithGroup(string? group) =>
            new(group, Requests, Errors, PromptTokens, CompletionTokens, CachedTokens, PromptTokens + CompletionTokens, Math.Round(CostUsd, 9));
    }
}

internal sealed record UsageTotals(string? Group, long Requests, long Errors, long PromptTokens, long CompletionTokens, long CachedTokens, long TotalTokens, double CostUsd)
{
    public static readonly UsageTotals Empty = new(null, 0, 0, 0, 0, 0, 0, 0);
}

internal sealed record UsageSummary(string Object, string Store, DateTime From, DateTime To, string? GroupBy, List<UsageTotals> Data, UsageTotals Total);

internal sealed record UsageRecordList(string Object, List<UsageRecordView> Data, bool HasMore);

internal sealed record UsageRecordView(
    long Id, DateTime Timestamp, string RequestId, string Caller, string? Team, string Model, string? Deployment, string Operation, bool Stream,
    int Status, string? ErrorType, int PromptTokens, int CompletionTokens, int CachedTokens, string UsageSource, double CostUsd, string Cache,
    double DurationMs, int Attempts)
{
    public static UsageRecordView From(UsageRecord r) => new(
        r.Id, DateTime.SpecifyKind(r.TimestampUtc, DateTimeKind.Utc), r.RequestId, r.Caller, r.Team, r.Model, r.Deployment, r.Operation, r.Stream,
        r.Status, r.ErrorType, r.PromptTokens, r.CompletionTokens, r.CachedTokens, r.UsageSource, r.CostUsd, r.Cache, r.DurationMs, r.Attempts);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(UsageSummary))]
[JsonSerializable(typeof(UsageRecordList))]
internal sealed partial class UsageJsonContext : JsonSerializerContext;
