using Microsoft.Extensions.Options;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>
/// Synchronous requests before batch items, inside one worker. A synchronous request holds a
/// <see cref="Enter">turn</see> while this worker signs it; batch items wait for the worker to have none before they
/// start their work (claim, KMS call, record), so a large batch takes only what the synchronous traffic leaves:
/// KMS budget (<see cref="RateLimiting.KmsBudget"/> already serves synchronous callers first) and, on a busy machine,
/// CPU. Batch items already past the gate finish; the wait is bounded so that a steady synchronous stream slows a
/// batch without stopping it.
/// </summary>
public sealed class SyncFirst(IOptions<SignWorkerOptions> options, TimeProvider time)
{
    /// <summary>How long a batch item waits at most for the synchronous requests in flight to end.</summary>
    private readonly TimeSpan _maxWait = TimeSpan.FromMilliseconds(options.Value.BatchYieldMs);

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(2);
    private int _inFlight;

    /// <summary>Synchronous requests this worker is signing now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>A synchronous request begins; dispose the result when it ends.</summary>
    public Turn Enter()
    {
        Interlocked.Increment(ref _inFlight);
        return new Turn(this);
    }

    /// <summary>Waits (at most <see cref="SignWorkerOptions.BatchYieldMs"/>) until no synchronous request is being signed here.</summary>
    public async Task YieldAsync(CancellationToken cancellationToken)
    {
        if (InFlight == 0 || _maxWait <= TimeSpan.Zero)
        {
            return;
        }

        var until = time.GetUtcNow() + _maxWait;
        while (InFlight > 0 && time.GetUtcNow() < until)
        {
            await Task.Delay(Poll, time, cancellationToken);
        }
    }

    public readonly struct Turn(SyncFirst owner) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref owner._inFlight);
    }
}
