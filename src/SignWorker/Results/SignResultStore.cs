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

    public async Task CompleteAsync(Guid requestId, string? signingMode, string? region, byte[]? signature, string? errorType, string? errorMessage,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var message = errorMessage is { Length: > 1024 } ? errorMessage[..1024] : errorMessage;
        await db.Results.Where(r => r.RequestId == requestId).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.SigningMode, signingMode)
            .SetProperty(r => r.Region, region)
            .SetProperty(r => r.Signature, signature)
            .SetProperty(r => r.ErrorType, errorType)
            .SetProperty(r => r.ErrorMessage, message)
            .SetProperty(r => r.CompletedAt, now), cancellationToken);
    }

    public Task<BatchRecord?> FindBatchAsync(Guid batchId, CancellationToken cancellationToken) =>
        db.Batches.AsNoTracking().FirstOrDefaultAsync(b => b.BatchId == batchId, cancellationToken);

    /// <summary>
    /// Marks the batch completed if every item has ended and nobody marked it before; returns the event to publish
    /// then, once, whichever worker ended the last item.
    /// </summary>
    public async Task<BatchCompleted?> TryCompleteBatchAsync(Guid batchId, CancellationToken cancellationToken)
    {
        var batch = await FindBatchAsync(batchId, cancellationToken);
        if (batch is null || batch.CompletedAt is not null || batch.State != BatchStates.Accepted)
        {
            return null;
        }

        var ended = await db.Results.Where(r => r.BatchId == batchId && r.CompletedAt != null)
            .GroupBy(r => r.Signature != null).Select(g => new { Signed = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var succeeded = ended.Where(e => e.Signed).Sum(e => e.Count);
        var failed = ended.Where(e => !e.Signed).Sum(e => e.Count);
        if (succeeded + failed < batch.ItemCount)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var marked = await db.Batches.Where(b => b.BatchId == batchId && b.CompletedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.CompletedAt, now), cancellationToken);
        return marked == 1
            ? new BatchCompleted { BatchId = batchId, TenantId = batch.TenantId, ItemCount = batch.ItemCount, Succeeded = succeeded, Failed = failed, CompletedAt = now }
            : null;
    }
}
