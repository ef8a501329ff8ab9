using AiGateway.Configuration;

namespace AiGateway.Resilience;

/// <summary>The state of one deployment's breaker.</summary>
internal enum BreakerState
{
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

/// <summary>
/// One deployment's circuit breaker. Opens after consecutive failures or a failure ratio over a sampling
/// window, or for a 429's <c>Retry-After</c>; after the break, one half-open probe decides whether it
/// closes again. Time comes from <see cref="TimeProvider"/>, so tests drive it with a fake clock.
/// </summary>
internal sealed class CircuitBreaker(TimeProvider time)
{
    private readonly Lock _lock = new();
    private BreakerState _state;
    private DateTimeOffset _openUntil;
    private bool _probeInFlight;
    private int _consecutiveFailures;
    private DateTimeOffset _windowStart;
    private int _windowTotal;
    private int _windowFailures;

    public BreakerState State
    {
        get
        {
            lock (_lock)
            {
                return _state == BreakerState.Open && time.GetUtcNow() >= _openUntil ? BreakerState.HalfOpen : _state;
            }
        }
    }

    /// <summary>Whether a request may go to the deployment now, without claiming the half-open probe.</summary>
    public bool IsAvailable
    {
        get
        {
            lock (_lock)
            {
                return _state switch
                {
                    BreakerState.Closed => true,
                    BreakerState.Open => time.GetUtcNow() >= _openUntil,
                    _ => !_probeInFlight,
                };
            }
        }
    }

    /// <summary>Whether the breaker lets a request through at <paramref name="when"/>, absent further failures.</summary>
    public bool WillBeAvailableAt(DateTimeOffset when)
    {
        lock (_lock)
        {
            return _state switch
            {
                BreakerState.Closed => true,
                BreakerState.Open => when >= _openUntil,
                _ => !_probeInFlight,
            };
        }
    }

    /// <summary>Claims the right to send a request: always when closed, once (the probe) when half-open.</summary>
    public bool TryAcquire()
    {
        lock (_lock)
        {
            if (_state == BreakerState.Open && time.GetUtcNow() >= _openUntil)
            {
                _state = BreakerState.HalfOpen;
                _probeInFlight = false;
            }
            switch (_state)
            {
                case BreakerState.Closed:
                    return true;
                case BreakerState.HalfOpen when !_probeInFlight:
                    _probeInFlight = true;
                    return true;
                default:
                    return false;
            }
        }
    }

    public void RecordSuccess(BreakerOptions options)
    {
        lock (_lock)
        {
            _consecutiveFailures = 0;
            Count(options, failed: false);
            if (_state != BreakerState.Closed)
            {
                _state = BreakerState.Closed;
                _probeInFlight = false;
                ResetWindow();
            }
        }
    }

    /// <param name="options">The breaker settings in force.</param>
    /// <param name="retryAfter">A provider's own back-off request, which opens the breaker for that long.</param>
    /// <returns><c>true</c> when this failure opened the breaker.</returns>
    public bool RecordFailure(BreakerOptions options, TimeSpan? retryAfter)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            _consecutiveFailures++;
            Count(options, failed: true);
            var open = _state == BreakerState.HalfOpen
                || retryAfter is not null
                || _consecutiveFailures >= options.ConsecutiveFailures
                || (_windowTotal >= options.MinimumThroughput && (double)_windowFailures / _windowTotal >= options.FailureRatio);
            if (!open || _state == BreakerState.Open && now < _openUntil && retryAfter is null)
            {
                return false;
            }
            var duration = retryAfter ?? options.BreakDuration;
            _state = BreakerState.Open;
            _openUntil = now + duration;
            _probeInFlight = false;
            _consecutiveFailures = 0;
            ResetWindow();
            return true;
        }
    }

    private void Count(BreakerOptions options, bool failed)
    {
        var now = time.GetUtcNow();
        if (_windowTotal == 0 || now - _windowStart > options.SamplingDuration)
        {
            _windowStart = now;
            _windowTotal = 0;
            _windowFailures = 0;
        }
        _windowTotal++;
        if (failed) _windowFailures++;
    }

    private void ResetWindow()
    {
        _windowTotal = 0;
        _windowFailures = 0;
    }
}
