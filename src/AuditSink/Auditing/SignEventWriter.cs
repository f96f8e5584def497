using System.Globalization;
using System.Text;
using EdgeSigner.AuditSink.Data;
using EdgeSigner.Contracts.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace EdgeSigner.AuditSink.Auditing;

/// <summary>
/// Writes a batch of sign events in one round trip: one multi-row <c>INSERT ... ON CONFLICT (event_id) DO NOTHING</c>,
/// so a redelivered event leaves exactly one row and a batch is written whole or not at all. Both PostgreSQL and
/// SQLite accept the statement.
/// </summary>
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
    public async Task<int> WriteAsync(IReadOnlyList<(Guid EventId, string EventType, EdgeSignerLog Log)> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return 0;
        }

        var sql = new StringBuilder();
        var sqlHelper = db.GetService<ISqlGenerationHelper>();
        var entity = db.Model.FindEntityType(typeof(SignEventRecord))!;
        sql.Append("INSERT INTO ").Append(sqlHelper.DelimitIdentifier(entity.GetTableName()!, entity.GetSchema()))
            .Append(" (").AppendJoin(", ", Columns.Select(sqlHelper.DelimitIdentifier)).Append(") VALUES ");

        var recordedAt = time.GetUtcNow();
        var parameters = new List<object?>(events.Count * Columns.Length);
        for (var i = 0; i < events.Count; i++)
        {
            var (eventId, eventType, log) = events[i];
            sql.Append(i == 0 ? "(" : ", (");
            var values = new object?[]
            {
                eventId, eventType, log.RequestId, log.TenantId, log.Timestamp, log.Region, log.SigningMode, log.Kid,
                log.Format, log.PayloadSize, log.TWasmMs, log.TKmsMs, log.TTotalMs, log.CpuMsUsed, log.MemoryMbUsed,
                log.TbsHash, log.KmsKeyId, log.KmsRegion, log.Success, log.ErrorType, Truncate(log.ErrorMessage, 1024),
                log.RetryCount, log.FallbackTriggered, log.BatchId, log.ItemId, recordedAt,
            };
            for (var c = 0; c < values.Length; c++)
            {
                sql.Append(c == 0 ? "{" : ", {").Append(parameters.Count.ToString(CultureInfo.InvariantCulture)).Append('}');
                parameters.Add(values[c]);
            }

            sql.Append(')');
        }

        sql.Append(" ON CONFLICT (").Append(sqlHelper.DelimitIdentifier("event_id")).Append(") DO NOTHING");
        return await db.Database.ExecuteSqlRawAsync(sql.ToString(), parameters!, cancellationToken);
    }

    private static string? Truncate(string? value, int length) =>
        value is null || value.Length <= length ? value : value[..length];
}
