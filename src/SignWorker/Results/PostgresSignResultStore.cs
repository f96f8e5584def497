using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace EdgeSigner.SignWorker.Results;

/// <summary>
/// PostgreSQL: claims under a per-request advisory lock (the partitioned table cannot hold a unique index on the
/// request id alone), many requests per statement, and each result recorded in the same statement as its outcome
/// event's outbox row (<see cref="OutcomeOutbox"/>).
/// </summary>
public sealed class PostgresSignResultStore(SignerDbContext db, NpgsqlDataSource dataSource, TimeProvider time) : SignResultStore(db, time)
{
    /// <summary>One claimer at a time per request id, and today's partition, should the retention job not have made it yet.</summary>
    protected override async Task PrepareClaimAsync(Guid requestId, DateTimeOffset now, CancellationToken cancellationToken) =>
        await Db.Database.ExecuteSqlAsync(
            $"SELECT pg_advisory_xact_lock(hashtextextended({requestId.ToString()}, 7)), signer.ensure_partition('sign_results', {now})",
            cancellationToken);

    /// <summary>The lookup and the claim in one statement: <c>signer.claim_or_replay</c> (the ClaimOrReplayFunction migration).</summary>
    public override async Task<ClaimDecision> ClaimOrReplayAsync(SignRequested request, string tbsHash, string worker, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = Time.GetUtcNow();
        // A pooled connection for this one statement, given back at once: not the context's, which would stay open
        // (and out of the pool) for the rest of the message, through the budget wait and the KMS call.
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("""
            SELECT decision, (result).request_id, (result).created_at, (result).tenant_id, (result).kid, (result).format,
                   (result).signing_mode, (result).region, (result).tbs_hash, (result).signature, (result).error_type,
                   (result).error_message, (result).batch_id, (result).item_id, (result).item_index, (result).claimed_by,
                   (result).claimed_until, (result).completed_at
            FROM signer.claim_or_replay($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """, connection);
        foreach (var value in new object?[]
        {
            request.RequestId, request.TenantId, request.Kid, request.Format, tbsHash, request.BatchId, request.ItemId, request.ItemIndex,
            worker, now, now + ClaimFor,
        })
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        // Typed parameters where a null carries no type of its own.
        command.Parameters[5].NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid;
        command.Parameters[6].NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text;
        command.Parameters[7].NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return reader.GetString(0) switch
        {
            "claimed" => new ClaimDecision(ClaimKind.Claimed),
            "held" => new ClaimDecision(ClaimKind.HeldElsewhere),
            _ => new ClaimDecision(ClaimKind.Replay, Record(reader)),
        };
    }

    private static SignResultRecord Record(NpgsqlDataReader row) => new()
    {
        RequestId = row.GetGuid(1),
        CreatedAt = row.GetFieldValue<DateTimeOffset>(2),
        TenantId = row.GetString(3),
        Kid = row.GetString(4),
        Format = row.GetString(5),
        SigningMode = row.IsDBNull(6) ? null : row.GetString(6),
        Region = row.IsDBNull(7) ? null : row.GetString(7),
        TbsHash = row.GetString(8),
        Signature = row.IsDBNull(9) ? null : row.GetFieldValue<byte[]>(9),
        ErrorType = row.IsDBNull(10) ? null : row.GetString(10),
        ErrorMessage = row.IsDBNull(11) ? null : row.GetString(11),
        BatchId = row.IsDBNull(12) ? null : row.GetGuid(12),
        ItemId = row.IsDBNull(13) ? null : row.GetString(13),
        ItemIndex = row.IsDBNull(14) ? null : row.GetInt32(14),
        ClaimedBy = row.GetString(15),
        ClaimedUntil = row.GetFieldValue<DateTimeOffset>(16),
        CompletedAt = row.IsDBNull(17) ? null : row.GetFieldValue<DateTimeOffset>(17),
    };

    /// <summary>The outcome and its outbox row, in one statement.</summary>
    public override async Task<bool> CompleteAsync(Outcome outcome, CancellationToken cancellationToken) =>
        (await CompleteManyAsync([outcome], cancellationToken)).Count > 0;

    /// <summary>Many claims in one transaction, under the same advisory locks as one-by-one claims.</summary>
    public override async Task<HashSet<Guid>> ClaimManyAsync(IReadOnlyList<(SignRequested Request, string TbsHash)> items, string worker,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        var now = Time.GetUtcNow();
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

    /// <summary>Records each outcome not yet recorded and puts its outcome event in the outbox, atomically, in one statement.</summary>
    public override async Task<HashSet<Guid>> CompleteManyAsync(IReadOnlyList<Outcome> outcomes, CancellationToken cancellationToken)
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
        var connection = (NpgsqlConnection)Db.Database.GetDbConnection();
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await Db.Database.OpenConnectionAsync(cancellationToken);
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
