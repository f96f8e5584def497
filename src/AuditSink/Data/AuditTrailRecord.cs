namespace EdgeSigner.AuditSink.Data;

/// <summary>
/// One row of <c>audit.audit_trail</c>: an admin action, a configuration change, a breaker transition or a
/// security event, with who, when, from where, and the value before and after.
/// </summary>
public sealed class AuditTrailRecord
{
    public Guid EventId { get; set; }
    public DateTimeOffset OccurredAt { get; set; }

    /// <summary><c>admin_action</c> (more categories come with the breaker and security events).</summary>
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
}
