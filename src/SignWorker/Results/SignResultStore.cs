using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.Data;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.SignWorker.Results;

/// <summary>
/// Exactly one signature per request. A worker claims the request id (a row, for a limited time) before it signs,
/// and records the result before it acknowledges the message; a redelivery finds the result and replays it without
/// calling KMS again. A claim left by a worker that died expires and is taken over. One implementation per store,
/// chosen at registration: <see cref="PostgresSignResultStore"/> (many requests per statement, the outbox in the same
/// statement as the result) and <see cref="EmbeddedSignResultStore"/>.
/// </summary>
public abstract class SignResultStore(SignerDbContext db, TimeProvider time)
{
    public static readonly TimeSpan ClaimFor = TimeSpan.FromSeconds(30);

    protected SignerDbContext Db { get; } = db;
    protected TimeProvider Time { get; } = time;

    public Task<SignResultRecord?> FindAsync(Guid requestId, CancellationToken cancellationToken) =>
        Db.Results.AsNoTracking().FirstOrDefaultAsync(r => r.RequestId == requestId, cancellationToken);

    /// <summary>
    /// Replays the request's recorded result, or claims the request for <paramref name="worker"/> (see
    /// <see cref="ClaimOrReplay"/>): here a lookup, then a claim; PostgreSQL does both in one statement.
    /// </summary>
    public virtual async Task<ClaimDecision> ClaimOrReplayAsync(SignRequested request, string tbsHash, string worker, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var recorded = await FindAsync(request.RequestId, cancellationToken);
        if (recorded?.CompletedAt is not null)
        {
            return new ClaimDecision(ClaimKind.Replay, recorded);
        }

        return await ClaimAsync(request, tbsHash, worker, cancellationToken)
            ? new ClaimDecision(ClaimKind.Claimed)
            : new ClaimDecision(ClaimKind.HeldElsewhere);
    }

    /// <summary>Claims the request for <paramref name="worker"/>; false when another live claim or a result exists.</summary>
    public async Task<bool> ClaimAsync(SignRequested request, string tbsHash, string worker, CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow();
        Db.Database.AutoSavepointsEnabled = false; // one SaveChanges in its own transaction: no savepoint round trips
        await using var transaction = await Db.Database.BeginTransactionAsync(cancellationToken);
        await PrepareClaimAsync(request.RequestId, now, cancellationToken);

        var existing = await Db.Results.FirstOrDefaultAsync(r => r.RequestId == request.RequestId, cancellationToken);
        bool claimed;
        if (existing is null)
        {
            Db.Results.Add(new SignResultRecord
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

        await Db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Db.ChangeTracker.Clear();
        return claimed;
    }

    /// <summary>Inside a claim's transaction, before the row is read: what the store needs to claim safely.</summary>
    protected abstract Task PrepareClaimAsync(Guid requestId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Records the result; true when this call recorded it (false: a redelivery, already recorded).</summary>
    public abstract Task<bool> CompleteAsync(Outcome outcome, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="ClaimAsync"/> for many requests: returns the ids this worker claimed. The others already have a row
    /// (a result to replay, or a live claim of another worker) and take the one-by-one path.
    /// </summary>
    public abstract Task<HashSet<Guid>> ClaimManyAsync(IReadOnlyList<(SignRequested Request, string TbsHash)> items, string worker,
        CancellationToken cancellationToken);

    /// <summary><see cref="CompleteAsync"/> for many requests: returns the ids this call recorded.</summary>
    public abstract Task<HashSet<Guid>> CompleteManyAsync(IReadOnlyList<Outcome> outcomes, CancellationToken cancellationToken);

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

        var now = Time.GetUtcNow();
        var ids = requestIds.ToList();
        await Db.Results.Where(r => ids.Contains(r.RequestId) && r.ClaimedBy == worker && r.CompletedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.ClaimedUntil, now.AddTicks(-1)), cancellationToken);
    }

    /// <summary>
    /// One outcome to record: the request's final log (its outcome event's, whose timestamp becomes the result's
    /// completion time) and the signature, if it was signed.
    /// </summary>
    public sealed record Outcome(EdgeSignerLog Log, byte[]? Signature);
}
