using AiGateway.Auth;
using AiGateway.Configuration;
using Microsoft.EntityFrameworkCore;

namespace AiGateway.Usage;

/// <summary>
/// Enforces key and team spend budgets from the usage ledger. Every
/// <see cref="UsageLedgerOptions.BudgetRefreshInterval"/> it reads the ledger's daily spend per key and per team
/// (<see cref="SpendDaily"/>, with PostgreSQL every replica's) for the current UTC month. To that it adds what this replica
/// has recorded and not yet seen in a sum: rows still queued, and rows written after the last sum began.
/// So this replica's own spend counts at once, other replicas' within one refresh.
/// </summary>
/// <remarks>
/// A budget is checked when a request is admitted: the request that crosses it completes, the ones after
/// it are refused. Requests without budgets never reach this class.
/// </remarks>
internal sealed partial class BudgetTracker : IHostedService, IDisposable
{
    private readonly IDbContextFactory<UsageDbContext> _contexts;
    private readonly UsageLedger _ledger;
    private readonly GatewayConfigStore _config;
    private readonly UsageLedgerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<BudgetTracker> _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly RateGate _warnings;
    private readonly Lock _gate = new();
    private readonly Dictionary<(BudgetScope, string), double> _queued = [];
    // Written rows' spend not yet in a finished sum: "before" was written before the running sum began (it will be in
    // that sum), "since" after (it may not be). A sum that starts folds "since" into "before"; one that finishes clears "before".
    private Dictionary<(BudgetScope, string), double> _writtenBefore = [];
    private Dictionary<(BudgetScope, string), double> _writtenSince = [];
    private Spend _sums = Spend.Empty;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    public BudgetTracker(IDbContextFactory<UsageDbContext> contexts, UsageLedger ledger, GatewayConfigStore config, UsageLedgerOptions options,
        TimeProvider time, ILogger<BudgetTracker> logger)
    {
        _contexts = contexts;
        _ledger = ledger;
        _config = config;
        _options = options;
        _time = time;
        _logger = logger;
        _warnings = new RateGate(time, TimeSpan.FromSeconds(30));
        ledger.Budgets = this;
    }

    /// <summary>Completes after the first sum (tests wait on it).</summary>
    public Task FirstRefresh => _firstRefresh.Task;

    private readonly TaskCompletionSource _firstRefresh = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The refusal for a caller whose key or team budget is spent, or null.</summary>
    public BudgetRefusal? Check(GatewayCaller caller)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        return Check(caller.Budget, now) ?? Check(caller.TeamBudget, now);
    }

    /// <summary>A row was queued: its cost counts from now on.</summary>
    public void Queued(UsageRecord record)
    {
        if (record.CostUsd <= 0) return;
        lock (_gate)
        {
            Add(_queued, record, record.CostUsd);
        }
    }

    /// <summary>Rows reached the database: they move from "queued" to "written since the sum began".</summary>
    public void Written(List<UsageRecord> batch)
    {
        lock (_gate)
        {
            foreach (var record in batch)
            {
                if (record.CostUsd <= 0) continue;
                Add(_queued, record, -record.CostUsd);
                Add(_writtenSince, record, record.CostUsd);
            }
        }
    }

    /// <summary>Rows that will never reach the database (dropped): they stop counting.</summary>
    public void Dropped(UsageRecord record)
    {
        if (record.CostUsd <= 0) return;
        lock (_gate)
        {
            Add(_queued, record, -record.CostUsd);
        }
    }

    /// <summary>A thread of its own, like the ledger's writer: a SQLite query holds its thread for its whole run.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        new Thread(Run) { IsBackground = true, Name = "usage-budgets" }.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await _stopped.Task.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Dispose()
    {
        // Registered as itself and as a hosted service, so the container disposes it twice.
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stop.Cancel();
        _stop.Dispose();
    }

    private BudgetRefusal? Check(Budget? budget, DateTime now)
    {
        if (budget is null) return null;
        var id = (budget.Scope, budget.Name);
        Spend sums;
        double local;
        lock (_gate)
        {
            // The sums and the local amounts as one consistent picture: a refresh swaps both under this lock.
            sums = _sums;
            local = _queued.GetValueOrDefault(id) + _writtenBefore.GetValueOrDefault(id) + _writtenSince.GetValueOrDefault(id);
        }
        var (day, month) = sums.For(id, now);
        if (budget.DailyUsd is { } daily && day + local >= daily)
        {
            return Refusal(budget, "daily", day + local, daily, now.Date.AddDays(1));
        }
        if (budget.MonthlyUsd is { } monthly && month + local >= monthly)
        {
            return Refusal(budget, "monthly", month + local, monthly, new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1));
        }
        return null;
    }

    private static BudgetRefusal Refusal(Budget budget, string period, double spent, double limit, DateTime resetsAt) => new(
        429,
        $"The {budget.ScopeLabel} '{budget.Name}' has used its {period} budget: ${spent.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture)} spent of ${limit.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture)}. It resets at {resetsAt:yyyy-MM-ddTHH:mm:ssZ}.",
        "insufficient_quota",
        "insufficient_quota");

    private void Run()
    {
        var ct = _stop.Token;
        try
        {
            WaitHandle.WaitAny([((IAsyncResult)_ledger.SchemaReady).AsyncWaitHandle, ct.WaitHandle]);
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    if (_config.Current.HasBudgets)
                    {
                        Refresh();
                    }
                    else
                    {
                        // Nothing reads them, and budgets turned on later start from a fresh sum, not from stale local amounts.
                        lock (_gate)
                        {
                            _writtenBefore = [];
                            _writtenSince = [];
                            _sums = Spend.Empty;
                        }
                    }
                }
                catch (Exception e)
                {
                    // The last sums stay in force, plus this replica's own spend since: budgets still bind.
                    if (_warnings.TryEnter()) LogRefreshFailed(_logger, e.GetType().Name, e.Message);
                }
                _firstRefresh.TrySetResult();
                ct.WaitHandle.WaitOne(_options.BudgetRefreshInterval);
            }
        }
        catch (ObjectDisposedException)
        {
            // Disposed while stopping.
        }
        finally
        {
            _firstRefresh.TrySetResult();
            _stopped.TrySetResult();
        }
    }

    private void Refresh()
    {
        lock (_gate)
        {
            // Rows written from here on may be missed by the sum below; they stay counted locally until the next one.
            foreach (var (id, cost) in _writtenSince) Add(_writtenBefore, id, cost);
            _writtenSince = [];
        }
        var now = _time.GetUtcNow().UtcDateTime;
        var monthStart = new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        var dayStart = now.Date;
        using var db = _contexts.CreateDbContext();
        // A few rows per key and team and day of the month, kept by the writer in the rows' own transactions.
        var days = db.Spend.AsNoTracking().Where(s => s.Day >= monthStart).ToList();

        var totals = new Dictionary<(BudgetScope, string), (double Day, double Month)>();
        foreach (var row in days)
        {
            var id = (row.Scope == SpendDaily.TeamScope ? BudgetScope.Team : BudgetScope.Key, row.Name);
            var (day, month) = totals.GetValueOrDefault(id);
            totals[id] = (day + (row.Day == dayStart ? row.CostUsd : 0), month + row.CostUsd);
        }
        lock (_gate)
        {
            _sums = new Spend(dayStart, monthStart, totals);
            _writtenBefore = [];
        }
    }

    private static void Add(Dictionary<(BudgetScope, string), double> amounts, UsageRecord record, double cost)
    {
        Add(amounts, (BudgetScope.Key, record.Caller), cost);
        if (record.Team is not null) Add(amounts, (BudgetScope.Team, record.Team), cost);
    }

    private static void Add(Dictionary<(BudgetScope, string), double> amounts, (BudgetScope, string) id, double cost)
    {
        var value = amounts.GetValueOrDefault(id) + cost;
        if (Math.Abs(value) < 1e-12) amounts.Remove(id); else amounts[id] = value;
    }

    [LoggerMessage(EventId = 1305, Level = LogLevel.Warning, Message = "Budgets: could not sum the usage ledger ({ExceptionType}: {Reason}); the last sums plus this replica's own spend stay in force")]
    private static partial void LogRefreshFailed(ILogger logger, string exceptionType, string reason);

    /// <summary>Spend summed from the ledger for one UTC day and month; a new day or month starts from zero.</summary>
    private sealed record Spend(DateTime DayStart, DateTime MonthStart, Dictionary<(BudgetScope, string), (double Day, double Month)> Totals)
    {
        public static readonly Spend Empty = new(DateTime.MinValue, DateTime.MinValue, []);

        public (double Day, double Month) For((BudgetScope, string) id, DateTime now)
        {
            if (!Totals.TryGetValue(id, out var spend)) return (0, 0);
            return (now.Date == DayStart ? spend.Day : 0, now.Year == MonthStart.Year && now.Month == MonthStart.Month ? spend.Month : 0);
        }
    }
}

/// <summary>The 429 <c>insufficient_quota</c> of a spent budget (OpenAI's answer when an account's quota is used up).</summary>
internal sealed record BudgetRefusal(int Status, string Message, string Type, string Code)
{
    /// <summary>
    /// With <c>x-should-retry: false</c>, which OpenAI's and Anthropic's SDKs honour: a spent budget does not come
    /// back in the seconds their automatic retries of a 429 would wait.
    /// </summary>
    public Task WriteAsync(HttpContext context)
    {
        context.Response.Headers["x-should-retry"] = "false";
        return Protocol.OpenAiError.WriteAsync(context, Status, Message, Type, null, Code);
    }
}
