using EdgeSigner.AuditSink.Data;
using EdgeSigner.AuditSink.Retention;
using EdgeSigner.Contracts.Events;
using static EdgeSigner.ServiceDefaults.TextLimits;

namespace EdgeSigner.AuditSink.Auditing;

/// <summary>How a batch of sign events (and their error details) goes into the store: one implementation per store, chosen at registration.</summary>
public interface ISignEventRows
{
    /// <summary>Inserts the rows not stored yet (by event id), error details only for errors newer than <paramref name="errorDetailsCutoff"/>; returns rows written.</summary>
    Task<int> InsertAsync(AuditDbContext db, IReadOnlyList<(Guid EventId, string EventType, EdgeSignerLog Log)> events, DateTimeOffset recordedAt,
        DateTimeOffset errorDetailsCutoff, CancellationToken cancellationToken);
}

/// <summary>The embedded SQLite store: one command of multi-row inserts that skip rows already there.</summary>
public sealed class EmbeddedSignEventRows : ISignEventRows
{
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

    public Task<int> InsertAsync(
        AuditDbContext db, IReadOnlyList<(Guid EventId, string EventType, EdgeSignerLog Log)> events, DateTimeOffset recordedAt, DateTimeOffset errorDetailsCutoff,
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
        command.Rows<ErrorDetailRecord>(ErrorColumns, Key, events.Where(e => e.Log.ErrorType is not null && e.EventType != SignEventWriter.AttemptType && !LateEvents.IsExpired(e.Log.Timestamp, errorDetailsCutoff)).Select(e => new object?[]
        {
            e.EventId, e.Log.Timestamp, e.Log.RequestId, e.Log.TenantId, e.Log.ErrorType, Truncate(e.Log.ErrorMessage, 1024),
            e.Log.SigningMode, e.Log.KmsKeyId, e.Log.KmsRegion, e.Log.RetryCount, e.Log.FallbackTriggered, e.Log.Success,
        }).ToList());

        return command.ExecuteAsync(cancellationToken);
    }
}
