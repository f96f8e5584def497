using EdgeSigner.AuditSink.Data;
using EdgeSigner.AuditSink.Retention;
using EdgeSigner.Contracts.Events;
using Microsoft.EntityFrameworkCore;
using static EdgeSigner.ServiceDefaults.TextLimits;

namespace EdgeSigner.AuditSink.Auditing;

/// <summary>
/// Writes a batch of sign events into <c>audit.sign_events</c> (one row per event id) and, for those that carry an
/// error (failures, and fallbacks that still signed), into <c>audit.error_details</c>, in one transaction: binary
/// COPY through a staging table in PostgreSQL (<see cref="SignEventCopy"/>), a multi-row insert in SQLite.
/// </summary>
public sealed class SignEventWriter(AuditDbContext db, TimeProvider time, RollupWatermark watermark, LateEvents late)
{
    /// <summary>Rows written (events and error details), and events not written because their retention had passed.</summary>
    public sealed record Result(int Written, int Expired);

    private static readonly string[] Columns =
    [
        "event_id", "event_type", "request_id", "tenant_id", "timestamp", "region", "signing_mode", "kid", "format",
        "payload_size", "t_wasm_ms", "t_kms_ms", "t_total_ms", "cpu_ms_used", "memory_mb_used", "tbs_hash",
        "kms_key_id", "kms_region", "success", "error_type", "error_message", "retry_count", "fallback_triggered",
        "batch_id", "item_id", "recorded_at",
    ];

    private static readonly string[] ErrorColumns =
    [
        "event_id", "timestamp", "request_id", "tenant_id", "error_type", "error_message", "signing_mode", "kms_key_id",
        "kms_region", "retry_count", "fallback_triggered", "success",
    ];

    private static readonly string[] Key = ["event_id", "timestamp"];

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
        int written;
        if (db.IsPostgres)
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            try
            {
                written = await SignEventCopy.WriteAsync((Npgsql.NpgsqlConnection)db.Database.GetDbConnection(), events, recordedAt, errorCutoff, cancellationToken);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        }
        else
        {
            written = await WriteEmbeddedAsync(events, recordedAt, errorCutoff, cancellationToken);
        }

        watermark.Touch(events.Min(e => e.Log.Timestamp));
        return new Result(written, expired);
    }

    /// <summary>The embedded SQLite store: one command of multi-row inserts.</summary>
    private Task<int> WriteEmbeddedAsync(
        IReadOnlyList<(Guid EventId, string EventType, EdgeSignerLog Log)> events, DateTimeOffset recordedAt, DateTimeOffset errorCutoff,
        CancellationToken cancellationToken)
    {
        var command = new InsertIgnoringDuplicates(db);
        command.Rows<SignEventRecord>(Columns, Key, events.Select(e => new object?[]
        {
            e.EventId, e.EventType, e.Log.RequestId, e.Log.TenantId, e.Log.Timestamp, e.Log.Region, e.Log.SigningMode, e.Log.Kid,
            e.Log.Format, e.Log.PayloadSize, e.Log.TWasmMs, e.Log.TKmsMs, e.Log.TTotalMs, e.Log.CpuMsUsed, e.Log.MemoryMbUsed,
            e.Log.TbsHash, e.Log.KmsKeyId, e.Log.KmsRegion, e.Log.Success, e.Log.ErrorType, Truncate(e.Log.ErrorMessage, 1024),
            e.Log.RetryCount, e.Log.FallbackTriggered, e.Log.BatchId, e.Log.ItemId, recordedAt,
        }).ToList());
        command.Rows<ErrorDetailRecord>(ErrorColumns, Key, events.Where(e => e.Log.ErrorType is not null && e.EventType != AttemptType && !LateEvents.IsExpired(e.Log.Timestamp, errorCutoff)).Select(e => new object?[]
        {
            e.EventId, e.Log.Timestamp, e.Log.RequestId, e.Log.TenantId, e.Log.ErrorType, Truncate(e.Log.ErrorMessage, 1024),
            e.Log.SigningMode, e.Log.KmsKeyId, e.Log.KmsRegion, e.Log.RetryCount, e.Log.FallbackTriggered, e.Log.Success,
        }).ToList());

        return command.ExecuteAsync(cancellationToken);
    }

}
