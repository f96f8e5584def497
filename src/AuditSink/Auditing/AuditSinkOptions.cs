using System.ComponentModel.DataAnnotations;

namespace EdgeSigner.AuditSink.Auditing;

/// <summary>Ingest batching of the sink. Section <c>EdgeSigner:AuditSink</c>.</summary>
public sealed class AuditSinkOptions
{
    public const string SectionName = "EdgeSigner:AuditSink";

    /// <summary>Most events written in one statement.</summary>
    [Range(1, 1000)]
    public int BatchSize { get; set; } = 100;

    /// <summary>Longest an event waits for its batch to fill.</summary>
    [Range(1, 10_000)]
    public int BatchTimeLimitMs { get; set; } = 100;

    /// <summary>Batches written at once.</summary>
    [Range(1, 16)]
    public int ConcurrentBatches { get; set; } = 2;
}
