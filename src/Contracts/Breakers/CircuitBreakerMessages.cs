namespace EdgeSigner.Contracts.Breakers;

/// <summary>The breaker states, as the seed names them.</summary>
public static class BreakerStates
{
    public const string Closed = "CLOSED";
    public const string Open = "OPEN";
    public const string HalfOpen = "HALF_OPEN";
}

/// <summary>A worker's breaker for one KMS key in one region changed state. Recorded in the audit trail.</summary>
public sealed record CircuitBreakerStateChanged
{
    public required Guid EventId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
    public required string WorkerInstance { get; init; }
    public required string KmsKeyId { get; init; }
    public required string Region { get; init; }
    public required string From { get; init; }
    public required string To { get; init; }

    /// <summary>Why: <c>throttled</c>, <c>failure_threshold</c>, <c>probe_succeeded</c>, <c>probe_failed</c>, <c>reset_interval</c>, <c>operator_reset</c>.</summary>
    public required string Reason { get; init; }

    public int FailuresInWindow { get; init; }
}

/// <summary>One breaker as a worker reports it.</summary>
public sealed record BreakerStatus
{
    public required string KmsKeyId { get; init; }
    public required string Region { get; init; }
    public required string State { get; init; }
    public int FailuresInWindow { get; init; }
    public long TotalFailures { get; init; }
    public DateTimeOffset? LastTransitionAt { get; init; }
    public string? LastTransitionReason { get; init; }
}

/// <summary>Every breaker of one worker instance, published periodically and after each transition.</summary>
public sealed record CircuitBreakerStatusReported
{
    public required string WorkerInstance { get; init; }
    public required DateTimeOffset ReportedAt { get; init; }
    public required IReadOnlyList<BreakerStatus> Breakers { get; init; }
}

/// <summary>An operator's reset: every worker instance closes all its breakers.</summary>
public sealed record ResetCircuitBreakers
{
    public required Guid EventId { get; init; }
    public required DateTimeOffset RequestedAt { get; init; }
}
