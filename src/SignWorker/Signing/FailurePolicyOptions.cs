using System.ComponentModel.DataAnnotations;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>
/// The seed's <c>FailureRecovery</c> and breaker rules. Section <c>EdgeSigner:FailurePolicy</c>. The KMS call
/// timeout is the flag <c>kms_timeout_ms</c>.
/// </summary>
public sealed class FailurePolicyOptions
{
    public const string SectionName = "EdgeSigner:FailurePolicy";

    /// <summary>Retries of a KMS service error (5xx, internal, dependency timeout, connection) before falling back.</summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; } = 3;

    [Range(1, 60_000)]
    public int BaseDelayMs { get; set; } = 1000;

    [Range(1, 600_000)]
    public int MaxDelayMs { get; set; } = 10_000;

    /// <summary>Equal jitter: each delay is uniform in [d/2, d] for the exponential delay d, so delays still grow.</summary>
    public bool Jitter { get; set; } = true;

    /// <summary>Whether a failed edge call falls back to the central backend at all.</summary>
    public bool FallbackToCentral { get; set; } = true;

    /// <summary>The central backend's own timeout.</summary>
    [Range(100, 120_000)]
    public int FallbackTimeoutMs { get; set; } = 5000;

    /// <summary>
    /// MassTransit's <c>ActiveThreshold</c> of the failure breaker: it may open once more than this many calls were
    /// made within the window (the seed's "more than 5 failures in 60 s"; docs/failure-policy.md says how they differ).
    /// </summary>
    [Range(1, 10_000)]
    public int BreakerFailureThreshold { get; set; } = 5;

    /// <summary>MassTransit's <c>TripThreshold</c>: the share of those calls, in percent, that must have failed.</summary>
    [Range(0, 100)]
    public int BreakerTripThresholdPercent { get; set; } = 15;

    /// <summary>MassTransit's <c>TrackingPeriod</c> of the failure breaker: its counts start again every window.</summary>
    [Range(1000, 3_600_000)]
    public int BreakerWindowMs { get; set; } = 60_000;

    /// <summary>MassTransit's <c>ResetInterval</c>: how long an open breaker waits before it lets calls through half-open.</summary>
    [Range(100, 3_600_000)]
    public int BreakerResetIntervalMs { get; set; } = 30_000;

    /// <summary>How often each worker reports its breakers to the operators' view.</summary>
    [Range(200, 600_000)]
    public int StatusReportIntervalMs { get; set; } = 5000;
}
