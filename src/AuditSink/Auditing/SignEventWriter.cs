using EdgeSigner.AuditSink.Data;
using EdgeSigner.AuditSink.Retention;
using EdgeSigner.Contracts.Events;
using Microsoft.EntityFrameworkCore;
using static EdgeSigner.ServiceDefaults.TextLimits;

namespace EdgeSigner.AuditSink.Auditing;

/// <summary>
/// Writes a batch of sign events into <c>audit.sign_events</c> (one row per event id) and, for those that carry an
/// error (failures, and fallbacks that still signed), into <c>audit.error_details</c>, in one transaction, through the
/// store's <see cref="ISignEventRows"/>: binary COPY through a staging table in PostgreSQL (<see cref="SignEventCopy"/>),
/// a multi-row insert in SQLite (<see cref="EmbeddedSignEventRows"/>).
/// </summary>
public sealed class SignEventWriter(AuditDbContext db, ISignEventRows rows, TimeProvider time, RollupWatermark watermark, LateEvents late)
{
    /// <summary>Rows written (events and error details), and events not written because their retention had passed.</summary>
    public sealed record Result(int Written, int Expired);

    public const string AttemptType = "edge_sign_attempt";
    public const string SuccessType = "edge_sign_success";
    public const string FailureType = "edge_sign_failure";

    /// <summary>
    /// Inserts the events that are not stored yet, each into the partition of its own day (created when missing),
    /// and skips those past their retention (<see cref="LateEvents"/>).
    /// </summary>
    public async Task<Result> WriteAsync(IReadOnlyList<(Guid EventId, string EventType, EdgeSignerLog Log)> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var recordedAt = time.GetUtcNow();
        var kept = late.Keep(events, recordedAt);
        var expired = events.Count - kept.Count;
        if (kept.Count == 0)
        {
            return new Result(0, expired);
        }

        events = kept;
        var errorCutoff = late.ErrorDetailsCutoff(recordedAt);
        var written = await rows.InsertAsync(db, events, recordedAt, errorCutoff, cancellationToken);

        watermark.Touch(events.Min(e => e.Log.Timestamp));
        return new Result(written, expired);
    }
}
