using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.Data;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.SignWorker.Batches;

/// <summary>
/// The batches' one writer (<c>signer.batches</c>): opened while the ingress queues the items, accepted or abandoned
/// when it is done, counted as their items end, completed once, and read for the ingress's batch endpoints.
/// </summary>
public sealed class BatchStore(SignerDbContext db, TimeProvider time)
{
    public async Task OpenAsync(OpenBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (db.IsPostgres)
        {
            await db.Database.ExecuteSqlAsync($"SELECT signer.ensure_partition('batches', {batch.CreatedAt})", cancellationToken);
        }

        if (await db.Batches.AnyAsync(b => b.BatchId == batch.BatchId, cancellationToken))
        {
            return; // a redelivered request: opened already
        }

        db.Batches.Add(new BatchRecord { BatchId = batch.BatchId, TenantId = batch.TenantId, ItemCount = batch.ItemCount, CreatedAt = batch.CreatedAt });
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Accepts or abandons a batch still being submitted; a batch already closed keeps its state.</summary>
    public async Task<string?> CloseAsync(CloseBatch close, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(close);
        var state = close.Accepted ? BatchStates.Accepted : BatchStates.Abandoned;
        await db.Batches.Where(b => b.BatchId == close.BatchId && b.State == BatchStates.Submitting)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.State, state), cancellationToken);
        return await db.Batches.Where(b => b.BatchId == close.BatchId).Select(b => b.State).FirstOrDefaultAsync(cancellationToken);
    }

    public Task<BatchRecord?> FindAsync(Guid batchId, CancellationToken cancellationToken) =>
        db.Batches.AsNoTracking().FirstOrDefaultAsync(b => b.BatchId == batchId, cancellationToken);

    /// <summary>A tenant's accepted batch, counted from its recorded results (one per item, whatever the redeliveries).</summary>
    public async Task<BatchStatusReported?> StatusAsync(GetBatchStatus query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (await FindAcceptedAsync(query.BatchId, query.TenantId, cancellationToken) is not { } batch)
        {
            return null;
        }

        var counts = await db.Results.Where(r => r.BatchId == batch.BatchId && r.CompletedAt != null)
            .GroupBy(r => r.Signature != null).Select(g => new { Signed = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var succeeded = counts.Where(c => c.Signed).Sum(c => c.Count);
        var failed = counts.Where(c => !c.Signed).Sum(c => c.Count);
        var done = succeeded + failed >= batch.ItemCount;
        return new BatchStatusReported
        {
            BatchId = batch.BatchId,
            Status = done ? "completed" : succeeded + failed > 0 ? "running" : "pending",
            ItemCount = batch.ItemCount,
            Succeeded = succeeded,
            Failed = failed,
            CreatedAt = batch.CreatedAt,
            // The last item's worker marks the batch completed right after it recorded the result: in that instant
            // (or until a redelivery finishes the job of a worker that died there) the time of this answer stands in.
            CompletedAt = done ? batch.CompletedAt ?? time.GetUtcNow() : null,
        };
    }

    public async Task<BatchResultsPage?> ResultsAsync(GetBatchResults query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (await FindAcceptedAsync(query.BatchId, query.TenantId, cancellationToken) is not { } batch)
        {
            return null;
        }

        var rows = await db.Results.AsNoTracking()
            .Where(r => r.BatchId == batch.BatchId && r.CompletedAt != null && r.ItemIndex > query.After)
            .OrderBy(r => r.ItemIndex).Take(query.Limit + 1).ToListAsync(cancellationToken);
        return new BatchResultsPage
        {
            Items = rows.Take(query.Limit).Select(r => new BatchItemResult
            {
                ItemId = r.ItemId!, Kid = r.Kid, Format = r.Format, SigningMode = r.SigningMode, TbsHash = r.TbsHash, Signature = r.Signature, ErrorType = r.ErrorType,
            }).ToList(),
            Next = rows.Count > query.Limit ? rows[query.Limit - 1].ItemIndex : null,
        };
    }

    /// <summary>
    /// Marks the batch completed once every item has ended and nobody marked it before; returns the event to publish
    /// then, once. Safe to call again (a redelivery calls it, in case the worker that ended the last item died before
    /// it published).
    /// </summary>
    public async Task<BatchCompleted?> TryFinishAsync(Guid batchId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var completed = await db.Batches.Where(b => b.BatchId == batchId && b.CompletedAt == null && b.State == BatchStates.Accepted && b.Ended >= b.ItemCount)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.CompletedAt, now), cancellationToken);
        if (completed == 0)
        {
            return null;
        }

        var batch = (await FindAsync(batchId, cancellationToken))!;
        var signed = await db.Results.CountAsync(r => r.BatchId == batchId && r.Signature != null, cancellationToken);
        return new BatchCompleted
        {
            BatchId = batchId, TenantId = batch.TenantId, ItemCount = batch.ItemCount, Succeeded = signed, Failed = batch.ItemCount - signed, CompletedAt = now,
        };
    }

    private async Task<BatchRecord?> FindAcceptedAsync(Guid batchId, string tenantId, CancellationToken cancellationToken)
    {
        var batch = await FindAsync(batchId, cancellationToken);
        return batch is not null && batch.TenantId == tenantId && batch.State == BatchStates.Accepted ? batch : null; // another tenant's: not found
    }
}
