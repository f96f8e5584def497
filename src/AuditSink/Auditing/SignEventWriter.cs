using EdgeSigner.AuditSink.Data;
using EdgeSigner.Contracts.Events;

namespace EdgeSigner.AuditSink.Auditing;

/// <summary>Writes a batch of sign events into <c>audit.sign_events</c>, one row per event id.</summary>
public sealed class SignEventWriter(AuditDbContext db, TimeProvider time)
{
    private static readonly string[] Columns =
    [
        "event_id", "event_type", "request_id", "tenant_id", "timestamp", "region", "signing_mode", "kid", "format",
        "payload_size", "t_wasm_ms", "t_kms_ms", "t_total_ms", "cpu_ms_used", "memory_mb_used", "tbs_hash",
        "kms_key_id", "kms_region", "success", "error_type", "error_message", "retry_count", "fallback_triggered",
        "batch_id", "item_id", "recorded_at",
    ];

    public const string AttemptType = "edge_sign_attempt";
    public const string SuccessType = "edge_sign_success";
    public const string FailureType = "edge_sign_failure";

    /// <summary>Inserts the events that are not stored yet; returns how many rows were new.</summary>
    public Task<int> WriteAsync(IReadOnlyList<(Guid EventId, string EventType, EdgeSignerLog Log)> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var recordedAt = time.GetUtcNow();
        var rows = events.Select(e => new object?[]
        {
            e.EventId, e.EventType, e.Log.RequestId, e.Log.TenantId, e.Log.Timestamp, e.Log.Region, e.Log.SigningMode, e.Log.Kid,
            e.Log.Format, e.Log.PayloadSize, e.Log.TWasmMs, e.Log.TKmsMs, e.Log.TTotalMs, e.Log.CpuMsUsed, e.Log.MemoryMbUsed,
            e.Log.TbsHash, e.Log.KmsKeyId, e.Log.KmsRegion, e.Log.Success, e.Log.ErrorType, Truncate(e.Log.ErrorMessage, 1024),
            e.Log.RetryCount, e.Log.FallbackTriggered, e.Log.BatchId, e.Log.ItemId, recordedAt,
        }).ToList();
        return InsertIgnoringDuplicates.ExecuteAsync<SignEventRecord>(db, Columns, "event_id", rows, cancellationToken);
    }

    internal static string? Truncate(string? value, int length) =>
        value is null || value.Length <= length ? value : value[..length];
}
