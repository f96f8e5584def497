using EdgeSigner.Guardrails.RateLimiting;
using Microsoft.Extensions.Options;

namespace EdgeSigner.SignWorker.RateLimiting;

/// <summary>
/// This worker's share of the global KMS budget. Tokens are leased from the shared bucket in small blocks (one
/// database call per block, a few per second, not one per signature) and spent locally; a block not spent within
/// <see cref="LeaseTtl"/> is dropped, so a worker never sits on budget the others could use and the sum of all
/// workers never exceeds the rate plus a small burst.
/// </summary>
/// <remarks>
/// Synchronous requests first, across all workers: low-priority callers (batch items) lease only tokens above a
/// reserve of one lease block in the shared bucket, and only while no synchronous caller of this worker waits.
/// A synchronous caller may take the reserve, a few tokens at a time, kept for synchronous callers of its worker.
/// So a batch running at the full budget on one worker still leaves a synchronous request on another one its
/// token at once, and the batch gets whatever the synchronous traffic leaves.
/// </remarks>
public sealed class KmsBudget(IKmsBudgetStore store, IOptions<KmsBudgetOptions> options, TimeProvider time) : IDisposable
{
    private sealed class Lease : IDisposable
    {
        /// <summary>Tokens any caller may spend.</summary>
        public int Tokens;

        /// <summary>Tokens taken from the reserve: for synchronous callers only.</summary>
        public int UrgentTokens;

        public DateTimeOffset Expires;
        public readonly SemaphoreSlim Gate = new(1, 1);

        /// <summary>High-priority (synchronous) callers waiting for budget right now.</summary>
        public int UrgentWaiting;

        public void Dispose() => Gate.Dispose();
    }

    private readonly Dictionary<string, Lease> _leases = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _gate = new();

    public TimeSpan LeaseTtl => TimeSpan.FromMilliseconds(Math.Max(200, options.Value.LeaseMs * 4));

    /// <summary>
    /// Waits for one KMS call's worth of budget in <paramref name="region"/>; false when none comes before
    /// <paramref name="waitUntil"/> (the caller then falls back, or fails with a clear error). A low-priority caller
    /// (a batch item) takes only what synchronous callers leave (see the remarks on <see cref="KmsBudget"/>).
    /// </summary>
    public async Task<bool> AcquireAsync(string region, DateTimeOffset waitUntil, CancellationToken cancellationToken, bool lowPriority = false)
    {
        if (!options.Value.Enabled)
        {
            return true;
        }

        var lease = LeaseOf(region);
        if (!lowPriority)
        {
            Interlocked.Increment(ref lease.UrgentWaiting);
        }

        try
        {
            return await AcquireAsync(region, lease, waitUntil, lowPriority, cancellationToken);
        }
        finally
        {
            if (!lowPriority)
            {
                Interlocked.Decrement(ref lease.UrgentWaiting);
            }
        }
    }

    private async Task<bool> AcquireAsync(string region, Lease lease, DateTimeOffset waitUntil, bool lowPriority, CancellationToken cancellationToken)
    {
        var rate = options.Value.RateFor(region);
        var burst = options.Value.BurstFor(region);
        var block = options.Value.LeaseSizeFor(region);
        while (true)
        {
            TimeSpan wait;
            if (lowPriority && Volatile.Read(ref lease.UrgentWaiting) > 0)
            {
                wait = TimeSpan.FromMilliseconds(2);
            }
            else if (TryTake(lease, lowPriority))
            {
                return true;
            }
            else
            {
                await lease.Gate.WaitAsync(cancellationToken);
                try
                {
                    if (TryTake(lease, lowPriority))
                    {
                        return true;
                    }

                    if (lowPriority && Volatile.Read(ref lease.UrgentWaiting) > 0)
                    {
                        wait = TimeSpan.FromMilliseconds(2); // a synchronous caller came while this one waited for the gate
                    }
                    else
                    {
                        // Batch items: a block above the reserve, once half a block is there (few, larger leases).
                        // Synchronous callers: a fifth of a block, from the reserve if need be, kept for them.
                        var (granted, waitFor) = lowPriority
                            ? await store.LeaseAsync(region, rate, burst, block, reserve: block, atLeast: Math.Max(1, block / 2), cancellationToken)
                            : await store.LeaseAsync(region, rate, burst, Math.Max(1, block / 5), reserve: 0, atLeast: 1, cancellationToken);
                        if (granted > 0)
                        {
                            lock (_gate)
                            {
                                if (Expired(lease))
                                {
                                    lease.Tokens = 0;
                                    lease.UrgentTokens = 0;
                                }

                                if (lowPriority)
                                {
                                    lease.Tokens += granted;
                                }
                                else
                                {
                                    lease.UrgentTokens += granted;
                                }

                                lease.Expires = time.GetUtcNow() + LeaseTtl;
                            }

                            continue;
                        }

                        wait = waitFor < TimeSpan.FromMilliseconds(2) ? TimeSpan.FromMilliseconds(2) : waitFor;
                    }
                }
                finally
                {
                    lease.Gate.Release();
                }
            }

            if (time.GetUtcNow() + wait > waitUntil)
            {
                return false;
            }

            await Task.Delay(wait, time, cancellationToken);
        }
    }

    private bool Expired(Lease lease) => time.GetUtcNow() >= lease.Expires;

    /// <summary>A token of this worker's lease: synchronous callers spend reserve tokens first.</summary>
    private bool TryTake(Lease lease, bool lowPriority)
    {
        lock (_gate)
        {
            if (Expired(lease))
            {
                return false;
            }

            if (!lowPriority && lease.UrgentTokens > 0)
            {
                lease.UrgentTokens--;
                return true;
            }

            if (lease.Tokens > 0)
            {
                lease.Tokens--;
                return true;
            }

            return false;
        }
    }

    private Lease LeaseOf(string region)
    {
        lock (_gate)
        {
            if (!_leases.TryGetValue(region, out var lease))
            {
                lease = new Lease();
                _leases[region] = lease;
            }

            return lease;
        }
    }

    public void Dispose()
    {
        foreach (var lease in _leases.Values)
        {
            lease.Dispose();
        }
    }
}
