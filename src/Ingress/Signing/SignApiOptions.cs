using System.ComponentModel.DataAnnotations;

namespace EdgeSigner.Ingress.Signing;

/// <summary>Section <c>EdgeSigner:Api</c>.</summary>
public sealed class SignApiOptions
{
    public const string SectionName = "EdgeSigner:Api";

    /// <summary>How long a synchronous <c>/v1/sign</c> waits for its signature before answering 504.</summary>
    [Range(100, 120_000)]
    public int SyncTimeoutMs { get; set; } = 10_000;

    /// <summary>
    /// How long an instance trusts an API key it verified without asking the database again (0: ask every time). An
    /// operator's revocation or tenant change reaches every instance at once over the bus; this bounds it should that
    /// message be lost.
    /// </summary>
    [Range(0, 300)]
    public int ApiKeyCacheSeconds { get; set; } = 10;

    /// <summary>The largest <c>POST /v1/batches</c> body, in bytes.</summary>
    [Range(1024, 1024L * 1024 * 1024)]
    public long MaxBatchBodyBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>How long a batch item may wait for budget and a worker before it fails with signing_timeout.</summary>
    [Range(1, 24 * 7)]
    public int BatchItemDeadlineHours { get; set; } = 24;
}
