using EdgeSigner.AuditSink.Data;
using EdgeSigner.Contracts.Admin;

namespace EdgeSigner.AuditSink.Auditing;

/// <summary>Writes admin actions into <c>audit.audit_trail</c>, one row per event id.</summary>
public sealed class AuditTrailWriter(AuditDbContext db, TimeProvider time)
{
    public const string AdminActionCategory = "admin_action";

    private static readonly string[] Columns =
    [
        "event_id", "occurred_at", "category", "actor", "source_address", "action", "target", "outcome", "status_code",
        "before", "after", "recorded_at",
    ];

    public Task<int> WriteAsync(IReadOnlyList<AdminActionRecorded> actions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actions);
        var recordedAt = time.GetUtcNow();
        var rows = actions.Select(a => new object?[]
        {
            a.EventId, a.OccurredAt, AdminActionCategory, SignEventWriter.Truncate(a.Actor, 128), SignEventWriter.Truncate(a.SourceAddress, 64),
            SignEventWriter.Truncate(a.Action, 256), SignEventWriter.Truncate(a.Target, 256), a.Outcome, a.StatusCode, a.Before, a.After, recordedAt,
        }).ToList();
        return InsertIgnoringDuplicates.ExecuteAsync<AuditTrailRecord>(db, Columns, "event_id", rows, cancellationToken);
    }
}
