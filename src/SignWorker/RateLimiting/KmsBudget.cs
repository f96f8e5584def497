using EdgeSigner.ServiceDefaults.RateLimiting;
using Microsoft.Extensions.Options;

namespace EdgeSigner.SignWorker.RateLimiting;

/// <summary>
/// This worker's share of the global KMS budget. Tokens are leased from the shared bucket in small blocks (one
/// database call per block, a few per second, not one per signature) and spent locally; a block not spent within
/// <see cref="LeaseTtl"/> is dropped, so a worker never sits on budget the others could use and the sum of all
/// workers never exceeds the rate plus a small burst.
/// </summary>
public sealed class KmsBudget(IKmsBudgetStore store, IOptions<KmsBudgetOptions> options, TimeProvider time) : IDisposable
{
    private sealed class Lease : IDisposable
    {
        public int Tokens;
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
    /// (a batch item) takes budget only while no synchronous request of this worker is waiting for it.
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
        while (true)
        {
            if (lowPriority && Volatile.Read(ref lease.UrgentWaiting) > 0)
            {
                if (time.GetUtcNow() + TimeSpan.FromMilliseconds(5) > waitUntil)
                {
                    return false;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(5), time, cancellationToken);
                continue;
            }

            if (TryTake(lease))
            {
                return true;
            }

            TimeSpan wait;
            await lease.Gate.WaitAsync(cancellationToken);
            try
            {
                if (TryTake(lease))
                {
                    return true;
                }

                var (granted, waitFor) = await store.LeaseAsync(region, options.Value.RateFor(region), options.Value.BurstFor(region),
                    options.Value.LeaseSizeFor(region), cancellationToken);
                if (granted > 0)
                {
                    lock (_gate)
                    {
                        lease.Tokens = granted;
                        lease.Expires = time.GetUtcNow() + LeaseTtl;
                    }

                    continue;
                }

                wait = waitFor < TimeSpan.FromMilliseconds(2) ? TimeSpan.FromMilliseconds(2) : waitFor;
            }
            finally
            {
                lease.Gate.Release();
            }

            if (time.GetUtcNow() + wait > waitUntil)
            {
                return false;
            }

            await Task.Delay(wait, time, cancellationToken);
        }
    }

    private bool TryTake(Lease lease)
    {
        lock (_gate)
        {
            if (lease.Tokens > 0 && time.GetUtcNow() < lease.Expires)
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
