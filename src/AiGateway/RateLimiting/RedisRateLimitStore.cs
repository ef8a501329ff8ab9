using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AiGateway.RateLimiting;

/// <summary>
/// Counters in Redis, shared by every replica. One hash per scope and window length,
/// <c>{prefix}:{rl:kind:id}:{windowMs}</c>, with fields <c>r&lt;window&gt;</c> and <c>t&lt;window&gt;</c>
/// for the current and previous fixed windows; the key expires two windows after its last write.
/// </summary>
/// <remarks>
/// <para>Time is the Redis server's <c>TIME</c>, so replica clock skew cannot widen a window.</para>
/// <para>
/// Redis Cluster: a script may only touch keys of one hash slot, and each scope has its own hash tag
/// (a team counter is shared by many keys, so scopes cannot share one principal's tag). When all of a
/// request's keys fall in one slot, or the server is not a cluster, reserve is one fully atomic script.
/// Otherwise the keys are grouped by slot, each group is reserved by its own atomic script (in parallel,
/// still one round-trip of latency), and if any group rejects, the groups that admitted are given back
/// by a compensating script. This never over-admits; the price is that, for the few milliseconds between
/// the two steps, a concurrent request may see those transient holds and be rejected conservatively.
/// </para>
/// </remarks>
internal sealed class RedisRateLimitStore : IRateLimitStore
{
    // KEYS[i]: counter hash. ARGV[1]: tokens; then per key: window ms, request limit, token limit (-1 = none).
    // Returns {admitted, now, then per key: current requests, previous requests, current tokens, previous tokens}
    // with counts as they were before this request. The admission test must match SlidingWindow.Fits exactly.
    internal const string ReserveScript = """
        if redis.replicate_commands then pcall(redis.replicate_commands) end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local cost = tonumber(ARGV[1])
        local n = #KEYS
        local ok = true
        local seen = {}
        for i = 1, n do
          local w = tonumber(ARGV[3 * i - 1])
          local rl = tonumber(ARGV[3 * i])
          local tl = tonumber(ARGV[3 * i + 1])
          local win = math.floor(now / w)
          local e = now - win * w
          local v = redis.call('HMGET', KEYS[i], 'r' .. win, 'r' .. (win - 1), 't' .. win, 't' .. (win - 1))
          local cr, pr, ct, pt = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0, tonumber(v[4]) or 0
          if rl >= 0 and pr * (w - e) / w + cr + 1 > rl then ok = false end
          if tl >= 0 and pt * (w - e) / w + ct + cost > tl then ok = false end
          seen[i] = {w, win, cr, pr, ct, pt}
        end
        local out = {ok and 1 or 0, now}
        for i = 1, n do
          local s = seen[i]
          if ok then
            redis.call('HINCRBY', KEYS[i], 'r' .. s[2], 1)
            if cost > 0 then redis.call('HINCRBY', KEYS[i], 't' .. s[2], cost) end
            if redis.call('HLEN', KEYS[i]) > 4 then
              for _, f in ipairs(redis.call('HKEYS', KEYS[i])) do
                local fw = tonumber(string.sub(f, 2))
                if fw == nil or fw < s[2] - 1 then redis.call('HDEL', KEYS[i], f) end
              end
            end
            redis.call('PEXPIRE', KEYS[i], 2 * s[1] + 1000)
          end
          out[#out + 1] = s[3]
          out[#out + 1] = s[4]
          out[#out + 1] = s[5]
          out[#out + 1] = s[6]
        end
        return out
        """;

    // KEYS[i]: counter hash. ARGV[1]: request delta, ARGV[2]: token delta; then per key: window ms, charged window.
    // A refund only touches a window that still counts; a debit to a window that no longer counts lands in the current one.
    internal const string AdjustScript = """
        if redis.replicate_commands then pcall(redis.replicate_commands) end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local deltas = {tonumber(ARGV[1]), tonumber(ARGV[2])}
        local prefixes = {'r', 't'}
        for i = 1, #KEYS do
          local w = tonumber(ARGV[2 * i + 1])
          local cw = tonumber(ARGV[2 * i + 2])
          local win = math.floor(now / w)
          local live = cw >= win - 1
          local target = live and cw or win
          local wrote = false
          for d = 1, 2 do
            local delta = deltas[d]
            if delta > 0 or (delta < 0 and live) then
              local field = prefixes[d] .. target
              if redis.call('HINCRBY', KEYS[i], field, delta) < 0 then redis.call('HSET', KEYS[i], field, 0) end
              wrote = true
            end
          end
          if wrote then redis.call('PEXPIRE', KEYS[i], 2 * w + 1000) end
        end
        return 1
        """;

    private readonly RedisConnection _connection;
    private readonly string _prefix;
    private readonly ILogger<RedisRateLimitStore> _logger;

    public RedisRateLimitStore(RedisConnection connection, string keyPrefix, ILogger<RedisRateLimitStore> logger)
    {
        _connection = connection;
        _prefix = keyPrefix;
        _logger = logger;
    }

    public async ValueTask<StoreReservation> ReserveAsync(IReadOnlyList<LimitRule> rules, long tokens)
    {
        var multiplexer = await _connection.GetAsync().ConfigureAwait(false);
        var keys = new RedisKey[rules.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = Key(rules[i]);
        }

        var groups = _connection.IsCluster(multiplexer) ? GroupBySlot(multiplexer, keys) : null;
        if (groups is null)
        {
            return await Guard(ReserveGroupAsync(multiplexer, rules, keys, tokens)).ConfigureAwait(false);
        }

        var tasks = new Task<StoreReservation>[groups.Count];
        for (var g = 0; g < groups.Count; g++)
        {
            var members = groups[g];
            tasks[g] = ReserveGroupAsync(multiplexer, members.Select(i => rules[i]).ToArray(), members.Select(i => keys[i]).ToArray(), tokens);
        }

        try
        {
            await Guard(Task.WhenAll(tasks)).ConfigureAwait(false);
        }
        catch (RateLimitStoreUnavailableException)
        {
            await CompensateAsync(multiplexer, rules, groups, tasks, tokens).ConfigureAwait(false);
            throw;
        }

        var snapshots = new WindowSnapshot[rules.Count];
        var admitted = true;
        for (var g = 0; g < groups.Count; g++)
        {
            var result = tasks[g].Result;
            admitted &= result.Admitted;
            for (var m = 0; m < groups[g].Count; m++)
            {
                snapshots[groups[g][m]] = result.Snapshots[m];
            }
        }

        if (!admitted)
        {
            await CompensateAsync(multiplexer, rules, groups, tasks, tokens).ConfigureAwait(false);
        }

        return new StoreReservation(admitted, snapshots);
    }

    public async ValueTask AdjustAsync(IReadOnlyList<LimitRule> rules, long[] windowIndexes, long requestDelta, long tokenDelta)
    {
        var multiplexer = await _connection.GetAsync().ConfigureAwait(false);
        var keys = new RedisKey[rules.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = Key(rules[i]);
        }

        var groups = _connection.IsCluster(multiplexer) ? GroupBySlot(multiplexer, keys) : null;
        if (groups is null)
        {
            await Guard(AdjustGroupAsync(multiplexer, rules, keys, windowIndexes, requestDelta, tokenDelta)).ConfigureAwait(false);
            return;
        }

        var tasks = groups.Select(members => AdjustGroupAsync(
            multiplexer,
            members.Select(i => rules[i]).ToArray(),
            members.Select(i => keys[i]).ToArray(),
            members.Select(i => windowIndexes[i]).ToArray(),
            requestDelta,
            tokenDelta));
        await Guard(Task.WhenAll(tasks)).ConfigureAwait(false);
    }

    /// <summary><c>{prefix}:{rl:kind:id}:{windowMs}</c>; the braces make the scope the Redis Cluster hash tag.</summary>
    internal string Key(LimitRule rule)
    {
        var id = rule.Scope.Id;
        if (id.AsSpan().IndexOfAny("{}%") >= 0)
        {
            // Braces would end the hash tag early; escaping keeps distinct ids distinct.
            id = new StringBuilder(id).Replace("%", "%25").Replace("{", "%7B").Replace("}", "%7D").ToString();
        }

        return string.Create(CultureInfo.InvariantCulture, $"{_prefix}:{{rl:{rule.Scope.KindName}:{id}}}:{rule.WindowMs}");
    }

    private static async Task<StoreReservation> ReserveGroupAsync(IConnectionMultiplexer multiplexer, IReadOnlyList<LimitRule> rules, RedisKey[] keys, long tokens)
    {
        var args = new RedisValue[1 + (3 * rules.Count)];
        args[0] = tokens;
        for (var i = 0; i < rules.Count; i++)
        {
            args[1 + (3 * i)] = rules[i].WindowMs;
            args[2 + (3 * i)] = rules[i].Requests ?? -1;
            args[3 + (3 * i)] = rules[i].Tokens ?? -1;
        }

        var result = (RedisResult[])(await multiplexer.GetDatabase().ScriptEvaluateAsync(ReserveScript, keys, args).ConfigureAwait(false))!;
        var now = (long)result[1];
        var snapshots = new WindowSnapshot[rules.Count];
        for (var i = 0; i < snapshots.Length; i++)
        {
            var o = 2 + (4 * i);
            snapshots[i] = new WindowSnapshot(now, (long)result[o], (long)result[o + 1], (long)result[o + 2], (long)result[o + 3]);
        }

        return new StoreReservation((long)result[0] == 1, snapshots);
    }

    private static Task AdjustGroupAsync(IConnectionMultiplexer multiplexer, IReadOnlyList<LimitRule> rules, RedisKey[] keys, long[] windowIndexes, long requestDelta, long tokenDelta)
    {
        var args = new RedisValue[2 + (2 * rules.Count)];
        args[0] = requestDelta;
        args[1] = tokenDelta;
        for (var i = 0; i < rules.Count; i++)
        {
            args[2 + (2 * i)] = rules[i].WindowMs;
            args[3 + (2 * i)] = windowIndexes[i];
        }

        return multiplexer.GetDatabase().ScriptEvaluateAsync(AdjustScript, keys, args);
    }

    /// <summary>Null when every key shares one slot (one script suffices); otherwise rule indexes per slot.</summary>
    private static List<List<int>>? GroupBySlot(IConnectionMultiplexer multiplexer, RedisKey[] keys)
    {
        var slots = new int[keys.Length];
        var single = true;
        for (var i = 0; i < keys.Length; i++)
        {
            slots[i] = multiplexer.HashSlot(keys[i]);
            single &= slots[i] == slots[0];
        }

        if (single)
        {
            return null;
        }

        var groups = new List<List<int>>();
        var groupSlots = new List<int>();
        for (var i = 0; i < keys.Length; i++)
        {
            var g = groupSlots.IndexOf(slots[i]);
            if (g < 0)
            {
                groupSlots.Add(slots[i]);
                groups.Add([i]);
            }
            else
            {
                groups[g].Add(i);
            }
        }

        return groups;
    }

    /// <summary>
    /// Gives back what the admitting groups of a rejected (or failed) cross-slot reservation took, before the
    /// rejection is returned, so a rejection never leaves anything consumed. A failed compensation is logged
    /// and left to expire with its window.
    /// </summary>
    private async Task CompensateAsync(IConnectionMultiplexer multiplexer, IReadOnlyList<LimitRule> rules, List<List<int>> groups, Task<StoreReservation>[] tasks, long tokens)
    {
        var compensations = new List<Task>();
        for (var g = 0; g < groups.Count; g++)
        {
            if (!tasks[g].IsCompletedSuccessfully || !tasks[g].Result.Admitted)
            {
                continue;
            }

            var members = groups[g];
            var groupRules = new LimitRule[members.Count];
            var keys = new RedisKey[members.Count];
            var windows = new long[members.Count];
            for (var m = 0; m < members.Count; m++)
            {
                groupRules[m] = rules[members[m]];
                keys[m] = Key(groupRules[m]);
                windows[m] = tasks[g].Result.Snapshots[m].NowMs / groupRules[m].WindowMs;
            }

            compensations.Add(AdjustGroupAsync(multiplexer, groupRules, keys, windows, -1, -tokens));
        }

        try
        {
            await Guard(Task.WhenAll(compensations)).ConfigureAwait(false);
        }
        catch (RateLimitStoreUnavailableException ex)
        {
            RateLimitingLog.CompensationFailed(_logger, ex);
        }
    }

    /// <summary>Bounds a Redis call by the operation timeout (StackExchange.Redis checks its own only on heartbeats) and maps failures.</summary>
    private async Task<T> Guard<T>(Task<T> call)
    {
        try
        {
            return await call.WaitAsync(_connection.OperationTimeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Observe(call);
            throw new RateLimitStoreUnavailableException("Redis did not answer in time.", ex);
        }
    }

    private async Task Guard(Task call)
    {
        try
        {
            await call.WaitAsync(_connection.OperationTimeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Observe(call);
            throw new RateLimitStoreUnavailableException("Redis did not answer in time.", ex);
        }
    }

    private static void Observe(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
