namespace EdgeSigner.AuditSink.Auditing;

/// <summary>One thing to record in the audit trail, before it has a place in the chain.</summary>
public sealed record TrailEntry(
    Guid EventId, DateTimeOffset OccurredAt, string Category, string Actor, string SourceAddress, string Action,
    string? Target, string Outcome, int StatusCode, string? Before, string? After)
{
    public const string AdminAction = "admin_action";
    public const string BreakerTransition = "breaker_transition";
    public const string SecurityEvent = "security_event";
    public const string Retention = "retention";
}
