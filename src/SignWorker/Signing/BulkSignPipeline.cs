using EdgeSigner.SignWorker.Observability;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.CircuitBreaking;
using EdgeSigner.SignWorker.Keys;
using EdgeSigner.SignWorker.Results;
using EdgeSigner.SignWorker.Senders;
using MassTransit;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>
/// Batch items, many at a time: one statement claims them all, their KMS calls run together (under the global
/// budget, at low priority), one statement records every outcome, and the events are published together. Anything
/// unusual (a redelivery, another worker's claim, a passed deadline, a bad digest or key, a reply address, a sender
/// other than EdgeSigner's own services) takes the
/// one-by-one <see cref="SignPipeline"/>. (The embedded store runs its "one statement" as one per item.)
/// </summary>
public sealed class BulkSignPipeline(
    SigningKeyRegistry keys, BusSenders senders, SignResultStore results, KmsCircuitBreakers breakers, ClaimedSigner signer, OutcomeEvents events, SignPipeline oneByOne,
    SyncFirst syncFirst, TimeProvider time)
{
    private sealed record Candidate(ConsumeContext<SignRequested> Item, SigningKey Key, string TbsHash);

    public async Task HandleAsync(ConsumeContext<Batch<SignRequested>> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await syncFirst.YieldAsync(context.CancellationToken);
        var cpuAtStart = ProcessLoad.CpuTime;
        var (candidates, single) = Split(context.Message.DistinctBy(m => m.Message.RequestId));
        if (candidates.Count > 0)
        {
            var claimed = await results.ClaimManyAsync(candidates.Select(c => (c.Item.Message, c.TbsHash)).ToList(), breakers.Instance,
                context.CancellationToken);
            single.AddRange(candidates.Where(c => !claimed.Contains(c.Item.Message.RequestId)).Select(c => c.Item));
            var signing = candidates.Where(c => claimed.Contains(c.Item.Message.RequestId))
                .Select(async c => (c.Item, Result: await signer.SignAsync(c.Item, c.Key, c.TbsHash, batchItem: true, cpuAtStart))).ToList();
            try
            {
                await Task.WhenAll(signing);
            }
            catch (Exception) when (signing.Any(t => t.IsCompletedSuccessfully))
            {
                // Some items failed before their KMS call (the broker went away while publishing their attempt):
                // keep what the others signed, free the rest for the retry, then let the retry policy see the failure.
                var done = signing.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result).ToList();
                await RecordAsync(done);
                await results.ReleaseClaimsAsync(claimed.Except(done.Select(d => d.Item.Message.RequestId)).ToList(), breakers.Instance,
                    context.CancellationToken);
                throw;
            }
            catch (Exception)
            {
                await results.ReleaseClaimsAsync(claimed.ToList(), breakers.Instance, context.CancellationToken);
                throw;
            }

            var signed = signing.Select(t => t.Result).ToList();
            await RecordAsync(signed);
            await events.EndedAsync(context, signed);
        }

        foreach (var item in single)
        {
            await oneByOne.HandleAsync(item, batchItem: true);
        }
    }

    /// <summary>The items that can go the bulk way, and those that take the one-by-one way.</summary>
    private (List<Candidate> Bulk, List<ConsumeContext<SignRequested>> Single) Split(IEnumerable<ConsumeContext<SignRequested>> items)
    {
        var bulk = new List<Candidate>();
        var single = new List<ConsumeContext<SignRequested>>();
        foreach (var item in items)
        {
            var check = RequestCheck.Check(item.Message, keys.Find);
            if (item.ResponseAddress is null && check.CanSign && time.GetUtcNow() < item.Message.Deadline && senders.IsService(item))
            {
                bulk.Add(new Candidate(item, check.Key!, check.TbsHash));
            }
            else
            {
                single.Add(item);
            }
        }

        return (bulk, single);
    }

    /// <summary>
    /// Signatures KMS made are recorded whatever becomes of the messages (not with their cancellation token: the broker
    /// gone, a cancelled record would have the redelivery sign at KMS again).
    /// </summary>
    private Task<HashSet<Guid>> RecordAsync(IReadOnlyList<(ConsumeContext<SignRequested> Item, SignedRequest Result)> signed) =>
        results.CompleteManyAsync(signed.Select(s => new SignResultStore.Outcome(s.Result.Log, s.Result.Outcome.SignatureRs)).ToList(), CancellationToken.None);
}
