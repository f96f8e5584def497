using System.Collections.Immutable;
using EdgeSigner.Contracts.Breakers;

namespace EdgeSigner.SignWorker.CircuitBreaking;

/// <summary>The rules of a KMS breaker; see <see cref="BreakerState"/>.</summary>
public sealed record BreakerRules(int FailureThreshold, TimeSpan Window, TimeSpan ResetInterval)
{
    /// <summary>The seed's rule: more than 5 failures in 60 seconds; a probe after 30 seconds open.</summary>
    public static BreakerRules Seed { get; } = new(5, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30));
}

/// <summary>
/// The state of one breaker (one KMS key in one region), as an immutable value with pure transitions, so every rule
/// is tested without clocks or mocks.
/// <para>
/// What came from where. The states and their meaning follow MassTransit's circuit breaker
/// (<c>MassTransit.Middleware.CircuitBreaker</c>: Closed counts failures, Open fails fast, after a reset interval
/// HalfOpen lets a trial through, success closes and failure reopens). MassTransit's filter cannot be used as it is
/// in front of a KMS call: it trips on a failure <i>percentage</i> over a minimum attempt count in a fixed timer
/// window (the seed wants a count: more than 5 failures in a sliding 60 s), it cannot be tripped by a single event
/// (the seed opens at once on a throttle), its half-open state lets every call through rather than one probe, it has
/// no reset an operator can call, and it reads the wall clock rather than a <see cref="TimeProvider"/>. Those rules
/// are what this type adds; the rest is MassTransit's model.
/// </para>
/// </summary>
public sealed record BreakerState
{
    public string State { get; init; } = BreakerStates.Closed;

    /// <summary>Failure times still inside the window (Closed only).</summary>
    public ImmutableQueue<DateTimeOffset> Failures { get; init; } = [];

    public DateTimeOffset? OpenedAt { get; init; }

    /// <summary>True while the single half-open probe is out.</summary>
    public bool ProbeInFlight { get; init; }

    public long TotalFailures { get; init; }
    public DateTimeOffset? LastTransitionAt { get; init; }
    public string? LastTransitionReason { get; init; }

    public static BreakerState Closed { get; } = new();

    public int FailuresInWindow => Failures.Count();

    /// <summary>May a call go to the backend now? Moves Open to HalfOpen (one probe) once the reset interval passed.</summary>
    public (bool Allowed, BreakerState Next) TryAcquire(DateTimeOffset now, BreakerRules rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        return State switch
        {
            BreakerStates.Closed => (true, this),
            BreakerStates.Open when now - OpenedAt >= rules.ResetInterval =>
                (true, Transition(BreakerStates.HalfOpen, now, "reset_interval") with { ProbeInFlight = true }),
            BreakerStates.HalfOpen when !ProbeInFlight => (true, this with { ProbeInFlight = true }),
            _ => (false, this),
        };
    }

    public BreakerState OnSuccess(DateTimeOffset now) => State == BreakerStates.HalfOpen
        ? Transition(BreakerStates.Closed, now, "probe_succeeded")
        : this;

    /// <summary>A failed call: a throttle opens at once; otherwise the failure counts, and more than the threshold in the window opens.</summary>
    public BreakerState OnFailure(DateTimeOffset now, bool throttled, BreakerRules rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var counted = this with { TotalFailures = TotalFailures + 1 };
        if (State == BreakerStates.HalfOpen)
        {
            return counted.Open(now, throttled ? "throttled" : "probe_failed");
        }

        if (State == BreakerStates.Open)
        {
            return counted;
        }

        if (throttled)
        {
            return counted.Open(now, "throttled");
        }

        var failures = Failures.Enqueue(now);
        while (!failures.IsEmpty && now - failures.Peek() > rules.Window)
        {
            failures = failures.Dequeue();
        }

        return failures.Count() > rules.FailureThreshold
            ? counted.Open(now, "failure_threshold")
            : counted with { Failures = failures };
    }

    /// <summary>A call that says nothing about the backend's health (a configuration error, a cancelled call): frees the probe.</summary>
    public BreakerState OnInconclusive() => this with { ProbeInFlight = false };

    /// <summary>An operator's reset: closed, with a clean window.</summary>
    public BreakerState Reset(DateTimeOffset now) => Transition(BreakerStates.Closed, now, "operator_reset");

    private BreakerState Open(DateTimeOffset now, string reason) => Transition(BreakerStates.Open, now, reason) with { OpenedAt = now };

    private BreakerState Transition(string to, DateTimeOffset now, string reason) => this with
    {
        State = to,
        Failures = [],
        OpenedAt = null,
        ProbeInFlight = false,
        LastTransitionAt = now,
        LastTransitionReason = reason,
    };
}
