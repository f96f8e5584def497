using System.ComponentModel.DataAnnotations;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>
/// Consumer limits of the sign-requested endpoint. Section <c>EdgeSigner:Worker</c>. Size the concurrency as
/// target rate × KMS latency (500/s × 20 ms = 10 calls in flight), and the prefetch at about twice it.
/// </summary>
public sealed class SignWorkerOptions
{
    public const string SectionName = "EdgeSigner:Worker";

    [Range(1, 1024)]
    public int ConcurrentMessageLimit { get; set; } = 16;

    [Range(1, 4096)]
    public int PrefetchCount { get; set; } = 32;

    /// <summary>Batch items taken (claimed, signed, recorded) together: the batch consumer's message limit.</summary>
    [Range(1, 1000)]
    public int BatchSize { get; set; } = 32;

    /// <summary>Groups of <see cref="BatchSize"/> items a worker works on at once; prefetch is twice what they hold.</summary>
    [Range(1, 64)]
    public int BatchesInFlight { get; set; } = 2;

    /// <summary>How long the batch consumer waits to fill a group before it starts with fewer.</summary>
    [Range(1, 10_000)]
    public int BatchTimeLimitMs { get; set; } = 20;

    /// <summary>
    /// How long a batch item waits, at most, for the synchronous requests this worker is signing to end before it
    /// starts (<see cref="SyncFirst"/>); 0 turns the wait off.
    /// </summary>
    [Range(0, 10_000)]
    public int BatchYieldMs { get; set; } = 250;
}
