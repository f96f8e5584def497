using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.Data;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.SignWorker.Results;

/// <summary>A request whose result another worker is producing, or a batch still being submitted: try again later.</summary>
public sealed class ResultPendingException : Exception
{
    public ResultPendingException()
    {
    }

    public ResultPendingException(string message) : base(message)
    {
    }

    public ResultPendingException(string message, Exception inner) : base(message, inner)
    {
    }
}

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

    /// <summary>Makes sure the day's partitions exist (PostgreSQL); the ingress calls it before it records a batch.</summary>
    public async Task EnsurePartitionsAsync(DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (db.IsPostgres)
        {
            await db.Database.ExecuteSqlAsync(
                $"SELECT signer.ensure_partition('sign_results', {at}), signer.ensure_partition('batches', {at})", cancellationToken);
        }
    }

    /// <summary>
    /// Records the result, and for a batch item counts it as ended, in one transaction; true when this call recorded
    /// it (false: a redelivery, already recorded and counted). The batch's count is therefore exact.
    /// </summary>
    public async Task<bool> CompleteAsync(Guid requestId, Guid? batchId, string? signingMode, string? region, byte[]? signature, string? errorType,
        string? errorMessage, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var message = EdgeSigner.ServiceDefaults.TextLimits.Truncate(errorMessage, 1024);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var recorded = await db.Results.Where(r => r.RequestId == requestId && r.CompletedAt == null).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.SigningMode, signingMode)
            .SetProperty(r => r.Region, region)
            .SetProperty(r => r.Signature, signature)
            .SetProperty(r => r.ErrorType, errorType)
            .SetProperty(r => r.ErrorMessage, message)
            .SetProperty(r => r.CompletedAt, now), cancellationToken);
        if (recorded > 0 && batchId is { } batch)
        {
            await db.Batches.Where(b => b.BatchId == batch && b.State == BatchStates.Accepted)
                .ExecuteUpdateAsync(s => s.SetProperty(b => b.Ended, b => b.Ended + 1), cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return recorded > 0;
    }

    public Task<BatchRecord?> FindBatchAsync(Guid batchId, CancellationToken cancellationToken) =>
        db.Batches.AsNoTracking().FirstOrDefaultAsync(b => b.BatchId == batchId, cancellationToken);

    /// <summary>
    /// Marks the batch completed once every item has ended and nobody marked it before; returns the event to publish
    /// then, once. Safe to call again (a redelivery calls it, in case the worker that ended the last item died before
    /// it published).
    /// </summary>
    public async Task<BatchCompleted?> TryFinishBatchAsync(Guid batchId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var completed = await db.Batches.Where(b => b.BatchId == batchId && b.CompletedAt == null && b.State == BatchStates.Accepted && b.Ended >= b.ItemCount)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.CompletedAt, now), cancellationToken);
        if (completed == 0)
        {
            return null;
        }

        var batch = (await FindBatchAsync(batchId, cancellationToken))!;
        var signed = await db.Results.CountAsync(r => r.BatchId == batchId && r.Signature != null, cancellationToken);
        return new BatchCompleted
        {
            BatchId = batchId, TenantId = batch.TenantId, ItemCount = batch.ItemCount, Succeeded = signed, Failed = batch.ItemCount - signed, CompletedAt = now,
        };
    }
}
