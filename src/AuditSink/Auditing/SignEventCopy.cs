using EdgeSigner.AuditSink.Data;
using EdgeSigner.Contracts.Events;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;

namespace EdgeSigner.AuditSink.Auditing;

/// <summary>
/// PostgreSQL's fastest way in: binary COPY of a batch into a transaction-local staging table, then one
/// <c>INSERT ... SELECT ... ON CONFLICT DO NOTHING</c> into the partitioned tables (COPY itself cannot skip
/// duplicates), all in one transaction.
/// </summary>
public sealed class SignEventCopy : ISignEventRows
{
    public async Task<int> InsertAsync(AuditDbContext db, IReadOnlyList<(Guid EventId, string EventType, EdgeSignerLog Log)> events,
        DateTimeOffset recordedAt, DateTimeOffset errorDetailsCutoff, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            return await WriteAsync((NpgsqlConnection)db.Database.GetDbConnection(), events, recordedAt, errorDetailsCutoff, cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>The columns of <c>audit.sign_events</c> in COPY order.</summary>
    public const string ColumnList =
        "event_id, \"timestamp\", event_type, request_id, tenant_id, region, signing_mode, kid, format, payload_size, t_wasm_ms, " +
        "t_kms_ms, t_total_ms, cpu_ms_used, memory_mb_used, tbs_hash, kms_key_id, kms_region, success, error_type, error_message, " +
        "retry_count, fallback_triggered, batch_id, item_id, recorded_at";

    public static async Task<int> WriteAsync(
        NpgsqlConnection connection, IReadOnlyList<(Guid EventId, string EventType, EdgeSignerLog Log)> events, DateTimeOffset recordedAt,
        DateTimeOffset errorDetailsCutoff, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(events);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var prepare = new NpgsqlCommand(
            "CREATE TEMP TABLE sign_events_staging (LIKE audit.sign_events) ON COMMIT DROP", connection, transaction))
        {
            // Each row goes into the partition of its own day, made here when missing (an old event after an outage, a
            // backlog drained after midnight); error details only for days still inside their own retention.
            foreach (var (day, i) in events.Select(e => e.Log.Timestamp.UtcDateTime.Date).Distinct().Select((d, i) => (d, i)))
            {
                var at = new DateTimeOffset(day, TimeSpan.Zero);
                prepare.CommandText += $"; SELECT audit.ensure_partition('sign_events', @d{i})";
                if (!Retention.LateEvents.IsExpired(at, errorDetailsCutoff))
                {
                    prepare.CommandText += $", audit.ensure_partition('error_details', @d{i})";
                }

                prepare.Parameters.AddWithValue($"d{i}", at);
            }

            await prepare.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var import = await connection.BeginBinaryImportAsync($"COPY sign_events_staging ({ColumnList}) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            await WriteRowsAsync(import, events, recordedAt, cancellationToken);
            await import.CompleteAsync(cancellationToken);
        }

        int written;
        await using (var move = new NpgsqlCommand(
            $"""
            INSERT INTO audit.sign_events ({ColumnList}) SELECT {ColumnList} FROM sign_events_staging ON CONFLICT (event_id, "timestamp") DO NOTHING;
            INSERT INTO audit.error_details (event_id, "timestamp", request_id, tenant_id, error_type, error_message, signing_mode, kms_key_id,
                                             kms_region, retry_count, fallback_triggered, success)
            SELECT event_id, "timestamp", request_id, tenant_id, error_type, error_message, signing_mode, kms_key_id, kms_region, retry_count,
                   fallback_triggered, success
            FROM sign_events_staging WHERE error_type IS NOT NULL AND event_type <> 'edge_sign_attempt'
              AND date_trunc('day', "timestamp" AT TIME ZONE 'UTC') + interval '1 day' > @error_cutoff AT TIME ZONE 'UTC'
            ON CONFLICT (event_id, "timestamp") DO NOTHING;
            """, connection, transaction))
        {
            move.Parameters.AddWithValue("error_cutoff", errorDetailsCutoff);
            written = await move.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return written;
    }

    /// <summary>Writes the rows in <see cref="ColumnList"/> order (the benchmark's COPY ceiling uses the same code).</summary>
    public static async Task WriteRowsAsync(
        NpgsqlBinaryImporter import, IEnumerable<(Guid EventId, string EventType, EdgeSignerLog Log)> events, DateTimeOffset recordedAt,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(import);
        ArgumentNullException.ThrowIfNull(events);
        foreach (var (eventId, eventType, l) in events)
        {
            await import.StartRowAsync(cancellationToken);
            await import.WriteAsync(eventId, NpgsqlDbType.Uuid, cancellationToken);
            await import.WriteAsync(l.Timestamp, NpgsqlDbType.TimestampTz, cancellationToken);
            await import.WriteAsync(eventType, NpgsqlDbType.Varchar, cancellationToken);
            await import.WriteAsync(l.RequestId, NpgsqlDbType.Uuid, cancellationToken);
            await import.WriteAsync(l.TenantId, NpgsqlDbType.Varchar, cancellationToken);
            await import.WriteAsync(l.Region, NpgsqlDbType.Varchar, cancellationToken);
            await import.WriteAsync(l.SigningMode, NpgsqlDbType.Varchar, cancellationToken);
            await import.WriteAsync(l.Kid, NpgsqlDbType.Varchar, cancellationToken);
            await import.WriteAsync(l.Format, NpgsqlDbType.Varchar, cancellationToken);
            await import.WriteAsync(l.PayloadSize, NpgsqlDbType.Integer, cancellationToken);
            await import.WriteAsync(l.TWasmMs, NpgsqlDbType.Double, cancellationToken);
            await import.WriteAsync(l.TKmsMs, NpgsqlDbType.Double, cancellationToken);
            await import.WriteAsync(l.TTotalMs, NpgsqlDbType.Double, cancellationToken);
            await import.WriteAsync(l.CpuMsUsed, NpgsqlDbType.Double, cancellationToken);
            await import.WriteAsync(l.MemoryMbUsed, NpgsqlDbType.Double, cancellationToken);
            await import.WriteAsync(l.TbsHash, NpgsqlDbType.Varchar, cancellationToken);
            await import.WriteAsync(l.KmsKeyId, NpgsqlDbType.Varchar, cancellationToken);
            await import.WriteAsync(l.KmsRegion, NpgsqlDbType.Varchar, cancellationToken);
            await import.WriteAsync(l.Success, NpgsqlDbType.Boolean, cancellationToken);
            await WriteNullableAsync(import, l.ErrorType, cancellationToken);
            await WriteNullableAsync(import, EdgeSigner.ServiceDefaults.TextLimits.Truncate(l.ErrorMessage, 1024), cancellationToken);
            await import.WriteAsync(l.RetryCount, NpgsqlDbType.Integer, cancellationToken);
            await import.WriteAsync(l.FallbackTriggered, NpgsqlDbType.Boolean, cancellationToken);
            if (l.BatchId is { } batchId)
            {
                await import.WriteAsync(batchId, NpgsqlDbType.Uuid, cancellationToken);
            }
            else
            {
                await import.WriteNullAsync(cancellationToken);
            }

            await WriteNullableAsync(import, l.ItemId, cancellationToken);
            await import.WriteAsync(recordedAt, NpgsqlDbType.TimestampTz, cancellationToken);
        }
    }

    private static Task WriteNullableAsync(NpgsqlBinaryImporter import, string? value, CancellationToken cancellationToken) =>
        value is null ? import.WriteNullAsync(cancellationToken) : import.WriteAsync(value, NpgsqlDbType.Varchar, cancellationToken);
}
