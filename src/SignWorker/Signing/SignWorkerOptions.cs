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

    /// <summary>Batch items signed at once per worker (their own queue, lower priority for KMS budget).</summary>
    [Range(1, 1024)]
    public int BatchConcurrentMessageLimit { get; set; } = 8;

    [Range(1, 4096)]
    public int BatchPrefetchCount { get; set; } = 16;
}
