using EdgeSigner.Contracts.Signing;
using EdgeSigner.Ingress.Data;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.Ingress.Batches;

/// <summary>
/// Batches and their results (<c>ingress.batches</c>, <c>ingress.batch_items</c>), written by the ingress alone: a
/// batch is recorded before it is sent, accepted once the broker confirmed it, and counted as the workers report
/// each item's end (once per item, by its key, whatever the redeliveries); a bus batch's results are also sent, each
/// once, to the results queue of the tenant's service.
/// </summary>
public sealed class BatchStore(IngressDbContext db, TimeProvider time)
{
    /// <summary>How long a batch and its results are kept.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(7);

    public async Task CreateAsync(BatchRow batch, CancellationToken cancellationToken)
    {
        db.Batches.Add(batch);
        await db.SaveChangesAsync(cancellationToken);
        db.ChangeTracker.Clear();
    }

    /// <summary>Accepts or abandons a batch still being submitted.</summary>
    public Task CloseAsync(Guid batchId, string state, CancellationToken cancellationToken) =>
        db.Batches.Where(b => b.BatchId == batchId && b.State == BatchStates.Submitting)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.State, state), cancellationToken);

    /// <summary>A tenant's accepted batch; another tenant's is not found, as is one whose submission failed.</summary>
    public async Task<BatchRow?> FindAsync(Guid batchId, string tenantId, CancellationToken cancellationToken)
    {
        var batch = await db.Batches.AsNoTracking().FirstOrDefaultAsync(b => b.BatchId == batchId, cancellationToken);
        return batch is not null && batch.TenantId == tenantId && batch.State == BatchStates.Accepted ? batch : null;
    }

    /// <summary>How many of a batch's items were signed and how many failed.</summary>
    public async Task<(int Succeeded, int Failed)> CountAsync(Guid batchId, CancellationToken cancellationToken)
    {
        var counts = await db.BatchItems.Where(i => i.BatchId == batchId)
            .GroupBy(i => i.Signature != null).Select(g => new { Signed = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        return (counts.Where(c => c.Signed).Sum(c => c.Count), counts.Where(c => !c.Signed).Sum(c => c.Count));
    }

    /// <summary>Up to <paramref name="limit"/> + 1 ended items after item index <paramref name="after"/>, in item order.</summary>
    public Task<List<BatchItemRow>> PageAsync(Guid batchId, int after, int limit, CancellationToken cancellationToken) =>
        db.BatchItems.AsNoTracking().Where(i => i.BatchId == batchId && i.ItemIndex > after)
            .OrderBy(i => i.ItemIndex).Take(limit + 1).ToListAsync(cancellationToken);

    /// <summary>
    /// Keeps the items not kept yet and counts them in their batches, in one transaction; returns the batches touched,
    /// each with its results queue (null for an HTTP batch). Items of an unknown batch (sent straight to the bus) or of
    /// an abandoned one are not kept.
    /// </summary>
    public async Task<IReadOnlyDictionary<Guid, string?>> RecordAsync(IReadOnlyList<BatchItemEnded> ended, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ended);
        var batchIds = ended.Select(e => e.BatchId).Distinct().ToList();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var touched = await db.Batches.Where(b => batchIds.Contains(b.BatchId) && b.State != BatchStates.Abandoned)
            .ToDictionaryAsync(b => b.BatchId, b => b.ResultsQueue, cancellationToken);
        var open = touched.Keys.ToList();
        var indexes = ended.Select(e => e.ItemIndex).Distinct().ToList();
        var kept = await db.BatchItems.Where(i => open.Contains(i.BatchId) && indexes.Contains(i.ItemIndex))
            .Select(i => new { i.BatchId, i.ItemIndex }).ToListAsync(cancellationToken);
        var known = kept.Select(k => (k.BatchId, k.ItemIndex)).ToHashSet();
        var added = ended.Where(e => open.Contains(e.BatchId) && known.Add((e.BatchId, e.ItemIndex))).ToList();
        db.BatchItems.AddRange(added.Select(e => new BatchItemRow
        {
            BatchId = e.BatchId, ItemIndex = e.ItemIndex, ItemId = e.ItemId, RequestId = e.RequestId, Kid = e.Kid, Format = e.Format,
            SigningMode = e.SigningMode, TbsHash = e.TbsHash, Signature = e.Signature, ErrorType = e.ErrorType, CompletedAt = e.CompletedAt,
        }));
        await db.SaveChangesAsync(cancellationToken); // the key (batch, item index) refuses a copy another ingress kept meanwhile
        foreach (var batch in added.GroupBy(e => e.BatchId))
        {
            var count = batch.Count();
            await db.Batches.Where(b => b.BatchId == batch.Key).ExecuteUpdateAsync(s => s.SetProperty(b => b.Ended, b => b.Ended + count), cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return touched;
    }

    /// <summary>
    /// Sends the results in <paramref name="ended"/> that belong to bus batches (of <paramref name="touched"/>, what
    /// <see cref="RecordAsync"/> returned) and were not sent yet to their batch's
    /// results queue: claimed, sent (each confirmed by the broker) and counted in one transaction, so two ingresses
    /// handling copies of the same results send each once, and a failure sends them again on the retry. Only a crash
    /// between the broker's confirms and the commit sends one twice (its batch id and item index tell the copy).
    /// </summary>
    public async Task DeliverAsync(IReadOnlyList<BatchItemEnded> ended, IReadOnlyDictionary<Guid, string?> touched, Func<string, BatchItemEnded, Task> send,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ended);
        ArgumentNullException.ThrowIfNull(touched);
        ArgumentNullException.ThrowIfNull(send);
        var queues = touched.Where(t => t.Value is not null).ToDictionary(t => t.Key, t => t.Value!);
        if (queues.Count == 0)
        {
            return;
        }

        var delivery = Guid.NewGuid();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        foreach (var (batchId, _) in queues)
        {
            var indexes = ended.Where(e => e.BatchId == batchId).Select(e => e.ItemIndex).Distinct().ToList();
            await db.BatchItems.Where(i => i.BatchId == batchId && indexes.Contains(i.ItemIndex) && i.DeliveredBy == null)
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.DeliveredBy, delivery), cancellationToken);
        }

        var claimed = await db.BatchItems.AsNoTracking().Where(i => i.DeliveredBy == delivery).ToListAsync(cancellationToken);
        await Task.WhenAll(claimed.Select(r => send(queues[r.BatchId], new BatchItemEnded
        {
            BatchId = r.BatchId, ItemIndex = r.ItemIndex, ItemId = r.ItemId, RequestId = r.RequestId, Kid = r.Kid, Format = r.Format,
            SigningMode = r.SigningMode, TbsHash = r.TbsHash, Signature = r.Signature, ErrorType = r.ErrorType, CompletedAt = r.CompletedAt,
        })));
        foreach (var batch in claimed.GroupBy(r => r.BatchId))
        {
            var count = batch.Count();
            await db.Batches.Where(b => b.BatchId == batch.Key).ExecuteUpdateAsync(s => s.SetProperty(b => b.Delivered, b => b.Delivered + count), cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Marks the batches whose every item ended (and, for a bus batch, whose every result was sent to its results
    /// queue) as completed, and returns the <see cref="BatchCompleted"/> of each completed batch not yet announced,
    /// with its results queue (so a crash between the two announces it again rather than never).
    /// </summary>
    public async Task<IReadOnlyList<(BatchCompleted Event, string? ResultsQueue)>> CompleteAsync(IReadOnlyCollection<Guid> batchIds, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await db.Batches.Where(b => batchIds.Contains(b.BatchId) && b.CompletedAt == null && b.Ended >= b.ItemCount
                && (b.ResultsQueue == null || b.Delivered >= b.ItemCount))
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.CompletedAt, now), cancellationToken);
        var done = await db.Batches.AsNoTracking().Where(b => batchIds.Contains(b.BatchId) && b.CompletedAt != null && !b.CompletionPublished)
            .ToListAsync(cancellationToken);
        var events = new List<(BatchCompleted, string?)>();
        foreach (var batch in done)
        {
            var (succeeded, failed) = await CountAsync(batch.BatchId, cancellationToken);
            events.Add((new BatchCompleted
            {
                BatchId = batch.BatchId, TenantId = batch.TenantId, ItemCount = batch.ItemCount, Succeeded = succeeded, Failed = failed,
                CompletedAt = batch.CompletedAt!.Value,
            }, batch.ResultsQueue));
        }

        return events;
    }

    public Task MarkAnnouncedAsync(IEnumerable<Guid> batchIds, CancellationToken cancellationToken)
    {
        var ids = batchIds.ToList();
        return db.Batches.Where(b => ids.Contains(b.BatchId)).ExecuteUpdateAsync(s => s.SetProperty(b => b.CompletionPublished, true), cancellationToken);
    }

    /// <summary>Deletes the batches, and their items, created before <see cref="Lifetime"/> ago; returns how many batches went.</summary>
    public async Task<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var cutoff = now - Lifetime;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var old = db.Batches.Where(b => b.CreatedAt < cutoff).Select(b => b.BatchId);
        await db.BatchItems.Where(i => old.Contains(i.BatchId)).ExecuteDeleteAsync(cancellationToken);
        var pruned = await db.Batches.Where(b => b.CreatedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return pruned;
    }
}
