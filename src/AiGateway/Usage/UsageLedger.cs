using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;

namespace AiGateway.Usage;

/// <summary>
/// Writes usage records off the request path: <see cref="Record"/> only queues (a bounded channel); one
/// loop writes batches of up to <see cref="UsageLedgerOptions.BatchSize"/> every
/// <see cref="UsageLedgerOptions.FlushInterval"/>. When the database is down or slow the batch is retried with
/// backoff and new records wait in the channel, up to <see cref="UsageLedgerOptions.BufferCapacity"/>; past
/// that they are dropped, counted and logged, never silently. At shutdown, after the server has finished
/// its requests (<see cref="StoppedAsync"/>), what is queued is written.
/// </summary>
internal sealed partial class UsageLedger : IHostedLifecycleService, IDisposable
{
    public const string MeterName = "AiGateway.Usage";

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(30);

    private readonly Channel<UsageRecord> _channel;
    private readonly IDbContextFactory<UsageDbContext> _contexts;
    private readonly UsageStore _store;
    private readonly UsageLedgerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<UsageLedger> _logger;
    private readonly Counter<long> _records;
    private readonly TaskCompletionSource _schemaReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _abandon = new();
    private readonly CancellationTokenSource _flushNow = new();
    private Task _loop = Task.CompletedTask;
    private long _dropped;
    private int _disposed;
    private long _lastWarningTimestamp;

    public UsageLedger(IDbContextFactory<UsageDbContext> contexts, UsageStore store, UsageLedgerOptions options, TimeProvider time, IMeterFactory meters, ILogger<UsageLedger> logger)
    {
        _store = store;
        _contexts = contexts;
        _options = options;
        _time = time;
        _logger = logger;
        _channel = Channel.CreateBounded<UsageRecord>(new BoundedChannelOptions(options.BufferCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then says "full" instead of dropping quietly
        });
        _records = meters.Create(MeterName).CreateCounter<long>(
            "aigateway.usage_ledger.records", "{record}", "Usage records by result: written to the database, or dropped (buffer full, or the database stayed unreachable through shutdown).");
    }

    /// <summary>Records written since start; for tests and the admin API.</summary>
    public long Written { get; private set; }

    /// <summary>Records dropped since start.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Completes once the table exists (the admin API waits for it).</summary>
    public Task SchemaReady => _schemaReady.Task;

    /// <summary>Queues a record; never blocks, never throws.</summary>
    public void Record(UsageRecord record)
    {
        if (_channel.Writer.TryWrite(record)) return;
        Drop(1, "the ledger's buffer is full");
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(RunAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>After the server has stopped: no new records can come, so the queue is written out, within the shutdown timeout.</summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        _channel.Writer.TryComplete();
        await _flushNow.CancelAsync();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.ShutdownTimeout);
        try
        {
            await _loop.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            await _abandon.CancelAsync();
            try
            {
                await _loop.WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    public void Dispose()
    {
        // Registered as itself and as a hosted service, so the container disposes it twice.
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _channel.Writer.TryComplete();
        _abandon.Cancel();
        _abandon.Dispose();
        _flushNow.Dispose();
    }

    private async Task RunAsync()
    {
        var ct = _abandon.Token;
        var batch = new List<UsageRecord>(_options.BatchSize);
        try
        {
            await RetryAsync(EnsureSchemaAsync, "create the usage table", ct);
            _schemaReady.TrySetResult();
            var reader = _channel.Reader;
            while (await reader.WaitToReadAsync(ct))
            {
                // Let a batch gather: a record waits at most one flush interval.
                // Batching is plumbing, not logic under test: it waits on the system clock, whatever clock stamps the records.
                if (reader.Count < _options.BatchSize && !_flushNow.IsCancellationRequested)
                {
                    try
                    {
                        await Task.Delay(_options.FlushInterval, _flushNow.Token);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
                while (reader.TryRead(out var record))
                {
                    batch.Add(record);
                    if (batch.Count == _options.BatchSize)
                    {
                        await RetryAsync(c => WriteAsync(batch, c), "write usage records", ct);
                        batch.Clear();
                    }
                }
                if (batch.Count > 0)
                {
                    await RetryAsync(c => WriteAsync(batch, c), "write usage records", ct);
                    batch.Clear();
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Shutdown gave up on an unreachable database: what is left is counted and logged as dropped.
            var left = batch.Count + _channel.Reader.Count;
            if (left > 0) Drop(left, "the database was unreachable at shutdown");
        }
        catch (Exception e)
        {
            LogLoopFailed(_logger, e);
        }
        finally
        {
            _schemaReady.TrySetResult();
        }
    }

    /// <summary>
    /// One batch in one round trip's worth of work, without EF Core's change tracking (which cost more per row
    /// than the request it records): PostgreSQL's binary <c>COPY</c>, or one prepared SQLite <c>INSERT</c> run per
    /// row inside a transaction. Queries (the admin API) and the schema stay EF Core's.
    /// </summary>
    private async Task WriteAsync(List<UsageRecord> batch, CancellationToken ct)
    {
        await using var db = await _contexts.CreateDbContextAsync(ct);
        await db.Database.OpenConnectionAsync(ct);
        var connection = db.Database.GetDbConnection();
        if (connection is Npgsql.NpgsqlConnection postgres)
        {
            await UsageRows.CopyAsync(postgres, batch, ct);
        }
        else
        {
            await UsageRows.InsertAsync(connection, batch, ct);
        }
        Written += batch.Count;
        _records.Add(batch.Count, new KeyValuePair<string, object?>("result", "written"));
    }

    /// <summary>
    /// Creates the table and its indexes if they are missing. Not <c>EnsureCreated</c>: that does nothing in
    /// a PostgreSQL database that already has other tables, and races between replicas starting together.
    /// </summary>
    private async Task EnsureSchemaAsync(CancellationToken ct)
    {
        // Here rather than at start-up: a folder that cannot be made (a read-only disk) is retried and logged, not a crash.
        if (_store.SqlitePath is { } path) Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using var db = await _contexts.CreateDbContextAsync(ct);
        var script = db.Database.GenerateCreateScript()
            .Replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", StringComparison.Ordinal)
            .Replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", StringComparison.Ordinal);
        foreach (var statement in script.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (statement.Length > 0 && !statement.StartsWith("--", StringComparison.Ordinal))
            {
#pragma warning disable EF1002 // The DDL is EF's own script for this model, with no outside input.
                await db.Database.ExecuteSqlRawAsync(statement, ct);
#pragma warning restore EF1002
            }
        }
    }

    private async Task RetryAsync(Func<CancellationToken, Task> action, string what, CancellationToken ct)
    {
        var backoff = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                await action(ct);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                if (ShouldWarn()) LogDatabaseFailed(_logger, what, _channel.Reader.Count, backoff.TotalSeconds, e.GetType().Name, e.Message);
                // While the writer is closed and the loop waits, records keep queueing in the channel.
                await Task.Delay(backoff, ct);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }

    private void Drop(int count, string reason)
    {
        Interlocked.Add(ref _dropped, count);
        _records.Add(count, new KeyValuePair<string, object?>("result", "dropped"));
        if (ShouldWarn()) LogDropped(_logger, count, reason, Dropped);
    }

    private bool ShouldWarn()
    {
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastWarningTimestamp);
        if (last != 0 && _time.GetElapsedTime(last, now) < WarningInterval) return false;
        return Interlocked.CompareExchange(ref _lastWarningTimestamp, now, last) == last;
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Usage ledger: could not {What} ({ExceptionType}: {Reason}); {Queued} records wait in memory, retrying in {BackoffSeconds} s")]
    private static partial void LogDatabaseFailed(ILogger logger, string what, int queued, double backoffSeconds, string exceptionType, string reason);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Error, Message = "Usage ledger: {Count} records dropped because {Reason} ({Total} since start)")]
    private static partial void LogDropped(ILogger logger, int count, string reason, long total);

    [LoggerMessage(EventId = 1303, Level = LogLevel.Error, Message = "Usage ledger: the writer stopped")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception);
}
