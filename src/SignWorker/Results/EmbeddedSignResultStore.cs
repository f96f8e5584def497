using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.Data;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.SignWorker.Results;

/// <summary>The embedded SQLite store (one process): EF Core statements, many requests one after the other.</summary>
public sealed class EmbeddedSignResultStore(SignerDbContext db, TimeProvider time) : SignResultStore(db, time)
{
    /// <summary>Nothing: claims are serialised by SQLite's single writer.</summary>
    protected override Task PrepareClaimAsync(Guid requestId, DateTimeOffset now, CancellationToken cancellationToken) => Task.CompletedTask;

    public override async Task<bool> CompleteAsync(Outcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var log = outcome.Log;
        var message = EdgeSigner.ServiceDefaults.TextLimits.Truncate(log.ErrorMessage, 1024);
        var recorded = await Db.Results.Where(r => r.RequestId == log.RequestId && r.CompletedAt == null).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.SigningMode, log.SigningMode)
            .SetProperty(r => r.Region, log.KmsRegion)
            .SetProperty(r => r.Signature, outcome.Signature)
            .SetProperty(r => r.ErrorType, log.ErrorType)
            .SetProperty(r => r.ErrorMessage, message)
            .SetProperty(r => r.CompletedAt, log.Timestamp), cancellationToken);
        return recorded > 0;
    }

    public override async Task<HashSet<Guid>> ClaimManyAsync(IReadOnlyList<(SignRequested Request, string TbsHash)> items, string worker,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        var claimed = new HashSet<Guid>();
        foreach (var (request, tbsHash) in items)
        {
            if (await ClaimAsync(request, tbsHash, worker, cancellationToken))
            {
                claimed.Add(request.RequestId);
            }
        }

        return claimed;
    }

    public override async Task<HashSet<Guid>> CompleteManyAsync(IReadOnlyList<Outcome> outcomes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var recorded = new HashSet<Guid>();
        foreach (var outcome in outcomes)
        {
            if (await CompleteAsync(outcome, cancellationToken))
            {
                recorded.Add(outcome.Log.RequestId);
            }
        }

        return recorded;
    }
}
