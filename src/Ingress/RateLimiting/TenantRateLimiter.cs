using System.Collections.Concurrent;
using EdgeSigner.Guardrails.RateLimiting;

namespace EdgeSigner.Ingress.RateLimiting;

/// <summary>The answer of a tenant's bucket to one request.</summary>
public sealed record RateDecision(bool Allowed, double Remaining, TimeSpan RetryAfter, TimeSpan ResetAfter);

/// <summary>
/// Each tenant's limit, applied by every ingress instance from the tenant's one shared bucket
/// (<see cref="ITenantBuckets"/>) without a database call per request: an instance leases a block of tokens at a time
/// and spends it locally, as the workers lease the KMS budget. A block is at most 5% of the tenant's rate, a tenth of
/// its burst and 50 tokens (one token, as without leasing, for small limits); what an instance has not spent within
/// <see cref="LeaseTtl"/> is dropped.
/// </summary>
/// <remarks>
/// The cross-instance tolerance: the tenant never gets more tokens than its bucket gives out, and a token is spent at
/// most <see cref="LeaseTtl"/> after it was taken. Tokens an instance leased and dropped unspent are lost to the
/// tenant, so with N instances a tenant at its limit may be refused up to N × (block − 1) requests sooner than one
/// bucket alone would refuse it (at most 5% of a second's rate per instance).
/// </remarks>
public sealed class TenantRateLimiter(ITenantBuckets buckets, TimeProvider time) : IDisposable
{
    public static readonly TimeSpan LeaseTtl = TimeSpan.FromMilliseconds(250);

    private sealed class Lease : IDisposable
    {
        public int Tokens;
        public DateTimeOffset Expires;

        /// <summary>What the shared bucket held after this instance's last lease: for the Remaining header.</summary>
        public double SharedTokens;

        public readonly SemaphoreSlim Gate = new(1, 1);

        public void Dispose() => Gate.Dispose();
    }

    private readonly ConcurrentDictionary<string, Lease> _leases = new(StringComparer.Ordinal);

    /// <summary>How many tokens one lease takes for a tenant with this rate and burst.</summary>
    public static int BlockSize(double ratePerSecond, int burst) =>
        (int)Math.Max(1, Math.Floor(Math.Min(Math.Min(ratePerSecond * 0.05, burst / 10.0), 50)));

    public async Task<RateDecision> TakeAsync(string tenantId, double ratePerSecond, int burst, CancellationToken cancellationToken)
    {
        var lease = _leases.GetOrAdd(tenantId, _ => new Lease());
        if (TryTakeLocal(lease, ratePerSecond, burst) is { } local)
        {
            return local;
        }

        await lease.Gate.WaitAsync(cancellationToken);
        try
        {
            if (TryTakeLocal(lease, ratePerSecond, burst) is { } leasedMeanwhile)
            {
                return leasedMeanwhile; // another request of this tenant leased a block while this one waited
            }

            var grant = await buckets.TakeAsync(tenantId, ratePerSecond, burst, BlockSize(ratePerSecond, burst), cancellationToken);
            var shared = new TokenBucket(grant.Tokens, default);
            if (grant.Granted == 0)
            {
                return new RateDecision(false, grant.Tokens, shared.TimeUntilToken(ratePerSecond), shared.TimeUntilFull(ratePerSecond, burst));
            }

            lock (lease)
            {
                lease.Tokens = grant.Granted - 1;
                lease.SharedTokens = grant.Tokens;
                lease.Expires = time.GetUtcNow() + LeaseTtl;
                return Allowed(lease, ratePerSecond, burst);
            }
        }
        finally
        {
            lease.Gate.Release();
        }
    }

    /// <summary>Refills a tenant's shared bucket and drops this instance's lease of it.</summary>
    public async Task ClearAsync(string tenantId, CancellationToken cancellationToken)
    {
        await buckets.ClearAsync(tenantId, cancellationToken);
        if (_leases.TryGetValue(tenantId, out var lease))
        {
            lock (lease)
            {
                lease.Tokens = 0;
            }
        }
    }

    private RateDecision? TryTakeLocal(Lease lease, double ratePerSecond, int burst)
    {
        lock (lease)
        {
            if (lease.Tokens <= 0 || time.GetUtcNow() >= lease.Expires)
            {
                return null;
            }

            lease.Tokens--;
            return Allowed(lease, ratePerSecond, burst);
        }
    }

    private static RateDecision Allowed(Lease lease, double ratePerSecond, int burst)
    {
        var remaining = new TokenBucket(lease.SharedTokens + lease.Tokens, default);
        return new RateDecision(true, remaining.Tokens, TimeSpan.Zero, remaining.TimeUntilFull(ratePerSecond, burst));
    }

    public void Dispose()
    {
        foreach (var lease in _leases.Values)
        {
            lease.Dispose();
        }
    }
}
