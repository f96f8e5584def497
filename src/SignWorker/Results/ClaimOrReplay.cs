using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.Data;

namespace EdgeSigner.SignWorker.Results;

public enum ClaimKind
{
    /// <summary>This worker holds the request id now: it signs.</summary>
    Claimed,

    /// <summary>The request has a recorded result: it is answered again, KMS is not called.</summary>
    Replay,

    /// <summary>Another worker's live claim holds it: the message is retried later (by then a result or an expired claim).</summary>
    HeldElsewhere,
}

public sealed record ClaimDecision(ClaimKind Kind, SignResultRecord? Recorded = null);

/// <summary>The step that keeps one result per request id: replay what is recorded, else claim it for this worker.</summary>
public static class ClaimOrReplay
{
    public static async Task<ClaimDecision> DecideAsync(SignResultStore results, SignRequested request, string tbsHash, string worker,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(request);
        var recorded = await results.FindAsync(request.RequestId, cancellationToken);
        if (recorded?.CompletedAt is not null)
        {
            return new ClaimDecision(ClaimKind.Replay, recorded);
        }

        return await results.ClaimAsync(request, tbsHash, worker, cancellationToken)
            ? new ClaimDecision(ClaimKind.Claimed)
            : new ClaimDecision(ClaimKind.HeldElsewhere);
    }
}
