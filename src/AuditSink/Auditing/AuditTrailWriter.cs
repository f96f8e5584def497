using EdgeSigner.AuditSink.Data;
using System.Text.Json;
using EdgeSigner.Contracts.Admin;
using EdgeSigner.Contracts.Breakers;

namespace EdgeSigner.AuditSink.Auditing;

/// <summary>Writes admin actions into <c>audit.audit_trail</c>, one row per event id.</summary>
public sealed class AuditTrailWriter(AuditDbContext db, TimeProvider time)
{
    public const string AdminActionCategory = "admin_action";
    public const string BreakerTransitionCategory = "breaker_transition";

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

    /// <summary>Breaker transitions: the worker instance is the actor, the key and region the target.</summary>
    public Task<int> WriteAsync(IReadOnlyList<CircuitBreakerStateChanged> transitions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transitions);
        var recordedAt = time.GetUtcNow();
        var rows = transitions.Select(t => new object?[]
        {
            t.EventId, t.OccurredAt, BreakerTransitionCategory, SignEventWriter.Truncate(t.WorkerInstance, 128), "worker",
            $"breaker.{t.To.ToLowerInvariant()}", SignEventWriter.Truncate($"{t.KmsKeyId}@{t.Region}", 256), t.Reason, 0,
            JsonSerializer.Serialize(new { state = t.From, failures_in_window = t.FailuresInWindow }),
            JsonSerializer.Serialize(new { state = t.To, reason = t.Reason }), recordedAt,
        }).ToList();
        return InsertIgnoringDuplicates.ExecuteAsync<AuditTrailRecord>(db, Columns, "event_id", rows, cancellationToken);
    }
}
