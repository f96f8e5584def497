using EdgeSigner.Contracts.Breakers;
using MassTransit;
using MassTransit.Contracts;
using MassTransit.Middleware;

namespace EdgeSigner.SignWorker.CircuitBreaking;

/// <summary>The settings of one key's two breakers, from the failure policy (docs/failure-policy.md maps them onto the seed's rules).</summary>
public sealed record KmsBreakerSettings(int ActiveThreshold, int TripThresholdPercent, TimeSpan TrackingPeriod, TimeSpan ResetInterval);

/// <summary>
/// The breakers in front of one KMS key in one region: MassTransit's <c>CircuitBreakerFilter</c>, twice, on a pipe of
/// <see cref="KmsCall"/>. The first counts only throttles and opens on one (trip threshold 0 %, activation after one
/// call); the second counts only service failures and opens when more than <c>ActiveThreshold</c> calls were made in
/// its tracking period and at least <c>TripThresholdPercent</c> of them failed. Either being open refuses the call
/// before it takes KMS budget. Their state is read from the filters' own probe; their open and close events come
/// through the filters' router. An operator's reset builds the pipe anew (MassTransit's breaker has no reset of its own).
/// </summary>
public sealed class KmsBreaker
{
    private readonly KmsBreakerSettings _settings;
    private readonly Action<KmsBreaker> _changed;
    private IPipe<KmsCall> _pipe;
    private long _failures;
    private long _failuresSinceClosed;

    public KmsBreaker(string keyId, string region, KmsBreakerSettings settings, Action<KmsBreaker> changed)
    {
        KeyId = keyId;
        Region = region;
        _settings = settings;
        _changed = changed;
        _pipe = Build();
    }

    public string KeyId { get; }
    public string Region { get; }

    /// <summary>The last state reported as a transition; <see cref="KmsCircuitBreakers"/> compares it with <see cref="Read"/>.</summary>
    internal string ReportedState { get; set; } = BreakerStates.Closed;

    /// <summary>The exception that opened a breaker last (from its router's <see cref="CircuitBreakerOpened"/> event).</summary>
    internal Exception? LastOpenedBy { get; private set; }

    internal DateTimeOffset? LastTransitionAt { get; set; }
    internal string? LastTransitionReason { get; set; }

    /// <summary>Failures counted by either breaker since it last closed, for the transition event.</summary>
    internal long FailuresSinceClosed => Interlocked.Read(ref _failuresSinceClosed);

    internal void ClearFailuresSinceClosed() => Interlocked.Exchange(ref _failuresSinceClosed, 0);

    /// <summary>
    /// Runs <see cref="KmsCall.Work"/> through the breakers. False when a breaker refused the call (open); otherwise the
    /// work's own exception, if any, comes out after the breakers counted it.
    /// </summary>
    public async Task<bool> TrySendAsync(Func<Task> work, CancellationToken cancellationToken)
    {
        var call = new KmsCall(work, cancellationToken);
        try
        {
            await _pipe.Send(call);
        }
        catch (Exception) when (!call.PassedBreakers)
        {
            return false;
        }
        catch (KmsCallFailedException)
        {
            Notice();
            throw;
        }

        Notice();
        return true;
    }

    /// <summary>The end of the pipe: the call itself, its failures counted for the operators' view before the filters see them.</summary>
    private async Task RunAsync(KmsCall call)
    {
        call.PassedBreakers = true;
        try
        {
            await call.Work();
        }
        catch (KmsCallFailedException failed) when (failed.IsThrottle || failed.IsServiceFailure)
        {
            Interlocked.Increment(ref _failures);
            Interlocked.Increment(ref _failuresSinceClosed);
            throw;
        }
    }

    /// <summary>Replaces both filters with closed ones (an operator's reset).</summary>
    public void Reset()
    {
        _pipe = Build();
        LastOpenedBy = null;
    }

    /// <summary>The breakers' state as their filters report it: open if either is open, half-open if either is.</summary>
    public BreakerStatus Read()
    {
        var filters = Filters(_pipe.GetProbeResult().Results).Where(f => "circuitBreaker".Equals(Text(f, "filterType"), StringComparison.Ordinal)).ToList();
        var states = filters.Select(f => Text(f, "State")).ToList();
        var state = states.Contains("open") ? BreakerStates.Open
            : states.Contains("halfOpen") ? BreakerStates.HalfOpen
            : BreakerStates.Closed;
        return new BreakerStatus
        {
            KmsKeyId = KeyId,
            Region = Region,
            State = state,
            FailuresInWindow = filters.Where(f => Text(f, "State") == "closed").Sum(f => Number(f, "FailureCount")),
            TotalFailures = Interlocked.Read(ref _failures),
            LastTransitionAt = LastTransitionAt,
            LastTransitionReason = LastTransitionReason,
        };
    }

    /// <summary>A call passed or failed: the state may have moved (half-open has no event of its own).</summary>
    private void Notice()
    {
        if (ReportedState != BreakerStates.Closed)
        {
            _changed(this);
        }
    }

    private IPipe<KmsCall> Build()
    {
        var router = new PipeRouter();
        router.ConnectPipe(Pipe.Execute<EventContext<CircuitBreakerOpened>>(opened =>
        {
            LastOpenedBy = opened.Event.Exception;
            _changed(this);
        }));
        router.ConnectPipe(Pipe.Execute<EventContext<CircuitBreakerClosed>>(_ => _changed(this)));
        return Pipe.New<KmsCall>(pipe =>
        {
            pipe.UseCircuitBreaker(throttles =>
            {
                // Counts matter only for the activation (more than one call in the period); one throttle then opens it.
                throttles.TrackingPeriod = TimeSpan.FromHours(1);
                throttles.ActiveThreshold = 1;
                throttles.TripThreshold = 0;
                throttles.ResetInterval = _settings.ResetInterval;
                throttles.Handle<KmsCallFailedException>(f => f.IsThrottle);
                throttles.Router = router;
            });
            pipe.UseCircuitBreaker(failures =>
            {
                failures.TrackingPeriod = _settings.TrackingPeriod;
                failures.ActiveThreshold = _settings.ActiveThreshold;
                failures.TripThreshold = _settings.TripThresholdPercent;
                failures.ResetInterval = _settings.ResetInterval;
                failures.Handle<KmsCallFailedException>(f => f.IsServiceFailure);
                failures.Router = router;
            });
            pipe.UseExecuteAsync(RunAsync);
        });
    }

    /// <summary>The probe's <c>filters</c> entry: one dictionary per filter, or a single one.</summary>
    private static IEnumerable<IDictionary<string, object>> Filters(IDictionary<string, object> results) =>
        results.TryGetValue("filters", out var filters)
            ? filters switch
            {
                IDictionary<string, object> one => [one],
                IEnumerable<IDictionary<string, object>> many => many,
                _ => [],
            }
            : [];

    private static string? Text(IDictionary<string, object> values, string key) =>
        values.FirstOrDefault(v => string.Equals(v.Key, key, StringComparison.OrdinalIgnoreCase)).Value?.ToString();

    private static int Number(IDictionary<string, object> values, string key) =>
        int.TryParse(Text(values, key), System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;
}
