using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace EdgeSigner.SignWorker.Results;

/// <summary>
/// Exactly one signature per request. A worker claims the request id (a row, for a limited time) before it signs,
/// and records the result before it acknowledges the message; a redelivery finds the result and replays it without
/// calling KMS again. A claim left by a worker that died expires and is taken over.
/// </summary>
public sealed class SignResultStore(SignerDbContext db, TimeProvider time)
{
    public static readonly TimeSpan ClaimFor = TimeSpan.FromSeconds(30);

    public Task<SignResultRecord?> FindAsync(Guid requestId, CancellationToken cancellationToken) =>
        db.Results.AsNoTracking().FirstOrDefaultAsync(r => r.RequestId == requestId, cancellationToken);

    /// <summary>Claims the request for <paramref name="worker"/>; false when another live claim or a result exists.</summary>
    public async Task<bool> ClaimAsync(SignRequested request, string tbsHash, string worker, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        db.Database.AutoSavepointsEnabled = false; // one SaveChanges in its own transaction: no savepoint round trips
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (db.IsPostgres)
        {
            // One claimer at a time per request id (the partitioned table cannot hold a unique index on it alone),
            // and today's partition, should the retention job not have made it yet.
            await db.Database.ExecuteSqlAsync(
                $"SELECT pg_advisory_xact_lock(hashtextextended({request.RequestId.ToString()}, 7)), signer.ensure_partition('sign_results', {now})",
                cancellationToken);
        }

        var existing = await db.Results.FirstOrDefaultAsync(r => r.RequestId == request.RequestId, cancellationToken);
        bool claimed;
        if (existing is null)
        {
            db.Results.Add(new SignResultRecord
            {
                RequestId = request.RequestId, CreatedAt = now, TenantId = request.TenantId, Kid = request.Kid, Format = request.Format,
                TbsHash = tbsHash, BatchId = request.BatchId, ItemId = request.ItemId, ItemIndex = request.ItemIndex,
                ClaimedBy = worker, ClaimedUntil = now + ClaimFor,
            });
            claimed = true;
        }
        else if (existing.CompletedAt is null && existing.ClaimedUntil < now)
        {
            existing.ClaimedBy = worker; // the claimer died: take over
            existing.ClaimedUntil = now + ClaimFor;
            claimed = true;
        }
        else
        {
            claimed = false;
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return claimed;
    }

    /// <summary>
    /// Records the result; true when this call recorded it (false: a redelivery, already recorded). In PostgreSQL
    /// the same statement puts the outcome event in the outbox (<see cref="OutcomeOutbox"/>).
    /// </summary>
    public async Task<bool> CompleteAsync(Outcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        if (SupportsBulk)
        {
            return (await CompleteManyAsync([outcome], cancellationToken)).Count > 0;
        }

        var log = outcome.Log;
        var message = EdgeSigner.ServiceDefaults.TextLimits.Truncate(log.ErrorMessage, 1024);
        var recorded = await db.Results.Where(r => r.RequestId == log.RequestId && r.CompletedAt == null).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.SigningMode, log.SigningMode)
            .SetProperty(r => r.Region, log.KmsRegion)
            .SetProperty(r => r.Signature, outcome.Signature)
            .SetProperty(r => r.ErrorType, log.ErrorType)
            .SetProperty(r => r.ErrorMessage, message)
            .SetProperty(r => r.CompletedAt, log.Timestamp), cancellationToken);
        return recorded > 0;
    }

    /// <summary>True where the store can claim and record many requests in one statement (PostgreSQL).</summary>
    public bool SupportsBulk => db.IsPostgres;

    /// <summary>
    /// <see cref="ClaimAsync"/> for many requests in one transaction (PostgreSQL): returns the ids this worker
    /// claimed. The others already have a row (a result to replay, or a live claim of another worker) and take the
    /// one-by-one path.
    /// </summary>
    public async Task<HashSet<Guid>> ClaimManyAsync(IReadOnlyList<(SignRequested Request, string TbsHash)> items, string worker,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        var now = time.GetUtcNow();
        var connection = await OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        var ids = items.Select(i => i.Request.RequestId).ToArray();

        // The same advisory locks as one-by-one claims (in a fixed order, so two bulk claims cannot deadlock).
        batch.BatchCommands.Add(Command(
            "SELECT pg_advisory_xact_lock(hashtextextended(id::text, 7)) FROM unnest($1::uuid[]) AS id ORDER BY id", ids));
        batch.BatchCommands.Add(Command("SELECT signer.ensure_partition('sign_results', $1)", now));
        batch.BatchCommands.Add(Command("""
            WITH input AS (
                SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[], $8::int[])
                    AS t(request_id, tenant_id, kid, format, tbs_hash, batch_id, item_id, item_index)),
            taken AS (
                UPDATE signer.sign_results r SET claimed_by = $9, claimed_until = $11
                FROM input i WHERE r.request_id = i.request_id AND r.completed_at IS NULL AND r.claimed_until < $10
                RETURNING r.request_id),
            inserted AS (
                INSERT INTO signer.sign_results (request_id, created_at, tenant_id, kid, format, tbs_hash, batch_id, item_id, item_index, claimed_by, claimed_until)
                SELECT i.request_id, $10, i.tenant_id, i.kid, i.format, i.tbs_hash, i.batch_id, i.item_id, i.item_index, $9, $11
                FROM input i WHERE NOT EXISTS (SELECT 1 FROM signer.sign_results r WHERE r.request_id = i.request_id)
                RETURNING request_id)
            SELECT request_id FROM taken UNION ALL SELECT request_id FROM inserted
            """,
            ids,
            items.Select(i => i.Request.TenantId).ToArray(),
            items.Select(i => i.Request.Kid).ToArray(),
            items.Select(i => i.Request.Format).ToArray(),
            items.Select(i => i.TbsHash).ToArray(),
            items.Select(i => i.Request.BatchId).ToArray(),
            items.Select(i => i.Request.ItemId).ToArray(),
            items.Select(i => i.Request.ItemIndex).ToArray(),
            worker, now, now + ClaimFor));

        var claimed = new HashSet<Guid>();
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            await reader.NextResultAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                claimed.Add(reader.GetGuid(0));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return claimed;
    }

    /// <summary>
    /// Gives up this worker's claims on requests it did not sign after all (a failure before the KMS call), so that a
    /// retry, here or on another worker, takes them at once instead of waiting for the claims to expire.
    /// </summary>
    public async Task ReleaseClaimsAsync(IReadOnlyList<Guid> requestIds, string worker, CancellationToken cancellationToken)
    {
        if (requestIds.Count == 0)
        {
            return;
        }

        var now = time.GetUtcNow();
        var ids = requestIds.ToList();
        await db.Results.Where(r => ids.Contains(r.RequestId) && r.ClaimedBy == worker && r.CompletedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.ClaimedUntil, now.AddTicks(-1)), cancellationToken);
    }

    /// <summary>
    /// One outcome to record: the request's final log (its outcome event's, whose timestamp becomes the result's
    /// completion time) and the signature, if it was signed.
    /// </summary>
    public sealed record Outcome(EdgeSignerLog Log, byte[]? Signature);

    /// <summary>
    /// <see cref="CompleteAsync"/> for many requests in one statement (PostgreSQL): records each outcome not yet
    /// recorded and puts its outcome event in the outbox, atomically. Returns the
    /// ids this call recorded.
    /// </summary>
    public async Task<HashSet<Guid>> CompleteManyAsync(IReadOnlyList<Outcome> outcomes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var connection = await OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            WITH u AS (
                SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::text[], $7::timestamptz[], $8::jsonb[])
                    AS t(request_id, signing_mode, region, signature, error_type, error_message, completed_at, log)),
            done AS (
                UPDATE signer.sign_results r
                SET signing_mode = u.signing_mode, region = u.region, signature = u.signature, error_type = u.error_type,
                    error_message = u.error_message, completed_at = u.completed_at
                FROM u WHERE r.request_id = u.request_id AND r.completed_at IS NULL
                RETURNING r.request_id),
            outboxed AS (
                INSERT INTO signer.outcome_outbox (request_id, completed_at, log)
                SELECT u.request_id, u.completed_at, u.log FROM u JOIN done d ON d.request_id = u.request_id
                ON CONFLICT (request_id) DO NOTHING)
            SELECT request_id FROM done
            """, connection);
        foreach (var value in new object?[]
        {
            outcomes.Select(o => o.Log.RequestId).ToArray(),
            outcomes.Select(o => o.Log.SigningMode).ToArray(),
            outcomes.Select(o => o.Log.KmsRegion).ToArray(),
            outcomes.Select(o => o.Signature).ToArray(),
            outcomes.Select(o => o.Log.ErrorType).ToArray(),
            outcomes.Select(o => EdgeSigner.ServiceDefaults.TextLimits.Truncate(o.Log.ErrorMessage, 1024)).ToArray(),
            outcomes.Select(o => o.Log.Timestamp).ToArray(),
            outcomes.Select(o => OutcomeOutbox.Serialize(o.Log)).ToArray(),
        })
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        var recorded = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            recorded.Add(reader.GetGuid(0));
        }

        return recorded;
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
        }

        return connection;
    }

    private static NpgsqlBatchCommand Command(string sql, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }
}
