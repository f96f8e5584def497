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
    public static Task<ClaimDecision> DecideAsync(SignResultStore results, SignRequested request, string tbsHash, string worker,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(request);
        return results.ClaimOrReplayAsync(request, tbsHash, worker, cancellationToken);
    }
}
