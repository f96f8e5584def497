namespace EdgeSigner.AuditSink.Data;

/// <summary>
/// One row of <c>audit.audit_trail</c>: an admin action, a configuration change, a breaker transition, a security
/// event or a retention run, with who, when, from where, and the value before and after. Rows form a hash chain in
/// <see cref="Seq"/> order: <see cref="RowHash"/> covers the row's canonical encoding and <see cref="PrevHash"/>.
/// </summary>
public sealed class AuditTrailRecord
{
    /// <summary>The position in the chain: gap-free order of writing.</summary>
    public long Seq { get; set; }

    public Guid EventId { get; set; }
    public DateTimeOffset OccurredAt { get; set; }

    /// <summary><c>admin_action</c>, <c>breaker_transition</c>, <c>security_event</c> or <c>retention</c>.</summary>
    public string Category { get; set; } = string.Empty;

    public string Actor { get; set; } = string.Empty;
    public string SourceAddress { get; set; } = string.Empty;
    public string Action { get; set; } = string.Empty;
    public string? Target { get; set; }
    public string Outcome { get; set; } = string.Empty;
    public int StatusCode { get; set; }
    public string? Before { get; set; }
    public string? After { get; set; }
    public DateTimeOffset RecordedAt { get; set; }

    /// <summary>The <see cref="RowHash"/> of the row before (32 zero bytes for the first row ever).</summary>
    public byte[] PrevHash { get; set; } = [];

    public byte[] RowHash { get; set; } = [];
}

/// <summary>
/// What retention keeps of a dropped stretch of the audit trail: the last dropped row's position and hash, so the
/// remaining chain still verifies from its first row.
/// </summary>
public sealed class ChainAnchorRecord
{
    public long Seq { get; set; }
    public byte[] RowHash { get; set; } = [];
    public string DroppedPartition { get; set; } = string.Empty;
    public DateTimeOffset DroppedAt { get; set; }
}

/// <summary>One row of <c>audit.error_details</c>: why a request failed or fell back (kept 30 days).</summary>
public sealed class ErrorDetailRecord
{
    public Guid EventId { get; set; }
    public DateTimeOffset Timestamp { get; set; }
    public Guid RequestId { get; set; }
    public string TenantId { get; set; } = string.Empty;
    public string ErrorType { get; set; } = string.Empty;
    public string? ErrorMessage { get; set; }
    public string SigningMode { get; set; } = string.Empty;
    public string KmsKeyId { get; set; } = string.Empty;
    public string KmsRegion { get; set; } = string.Empty;
    public int RetryCount { get; set; }
    public bool FallbackTriggered { get; set; }

    /// <summary>True when the request was still signed (by the fallback).</summary>
    public bool Success { get; set; }
}

/// <summary>One row of <c>audit.metrics_minute</c>: a minute of one tenant, region and signing mode (kept a year).</summary>
public sealed class MetricsMinuteRecord
{
    public DateTimeOffset Minute { get; set; }
    public string TenantId { get; set; } = string.Empty;
    public string Region { get; set; } = string.Empty;
    public string SigningMode { get; set; } = string.Empty;
    public int Requests { get; set; }
    public int Failures { get; set; }
    public int Fallbacks { get; set; }
    public double P50Ms { get; set; }
    public double P95Ms { get; set; }
    public double P99Ms { get; set; }
    public double AvgKmsMs { get; set; }
}
