namespace EdgeSigner.AuditSink.Data;

/// <summary>
/// One row of <c>audit.sign_events</c>: a sign attempt, success or failure with the seed's <c>EdgeSignerLog</c>
/// fields, under the column names of the seed.
/// </summary>
public sealed class SignEventRecord
{
    public Guid EventId { get; set; }

    /// <summary><c>edge_sign_attempt</c>, <c>edge_sign_success</c> or <c>edge_sign_failure</c>.</summary>
    public string EventType { get; set; } = string.Empty;

    public Guid RequestId { get; set; }
    public string TenantId { get; set; } = string.Empty;
    public DateTimeOffset Timestamp { get; set; }
    public string Region { get; set; } = string.Empty;
    public string SigningMode { get; set; } = string.Empty;
    public string Kid { get; set; } = string.Empty;
    public string Format { get; set; } = string.Empty;
    public int PayloadSize { get; set; }
    public double TWasmMs { get; set; }
    public double TKmsMs { get; set; }
    public double TTotalMs { get; set; }
    public double CpuMsUsed { get; set; }
    public double MemoryMbUsed { get; set; }
    public string TbsHash { get; set; } = string.Empty;
    public string KmsKeyId { get; set; } = string.Empty;
    public string KmsRegion { get; set; } = string.Empty;
    public bool Success { get; set; }
    public string? ErrorType { get; set; }
    public string? ErrorMessage { get; set; }
    public int RetryCount { get; set; }
    public bool FallbackTriggered { get; set; }
    public Guid? BatchId { get; set; }
    public string? ItemId { get; set; }

    /// <summary>When the sink wrote the row.</summary>
    public DateTimeOffset RecordedAt { get; set; }
}
