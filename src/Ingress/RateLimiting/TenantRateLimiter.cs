using System.Collections.Concurrent;
using EdgeSigner.Ingress.Data;
using EdgeSigner.Guardrails.RateLimiting;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.Ingress.RateLimiting;

/// <summary>The answer of a tenant's bucket to one request.</summary>
public sealed record RateDecision(bool Allowed, double Remaining, TimeSpan RetryAfter, TimeSpan ResetAfter);

/// <summary>
/// Each tenant's token bucket, held where every ingress instance sees the same one: a row per tenant in PostgreSQL,
/// taken from in one statement (<c>ingress.take_tokens</c>, the shared token-bucket function, on the database's clock, so instances' clocks do not
/// matter), or, in embedded mode where there is one instance, in memory. Two implementations of one edge.
/// </summary>
public interface ITenantRateLimiter
{
    Task<RateDecision> TakeAsync(string tenantId, double ratePerSecond, int burst, CancellationToken cancellationToken);

    /// <summary>Refills a tenant's bucket (the operator's <c>clear</c>).</summary>
    Task ClearAsync(string tenantId, CancellationToken cancellationToken);
}

public sealed class PostgresTenantRateLimiter(IngressDbContext db) : ITenantRateLimiter
{
    private sealed record Row(int Granted, double Tokens);

    public async Task<RateDecision> TakeAsync(string tenantId, double ratePerSecond, int burst, CancellationToken cancellationToken)
    {
        var row = await db.Database
            .SqlQuery<Row>($"SELECT granted, tokens FROM ingress.take_tokens({tenantId}, {ratePerSecond}, {(double)burst}, 1, 0.0, 1)")
            .SingleAsync(cancellationToken);
        var bucket = new TokenBucket(row.Tokens, default);
        return new RateDecision(row.Granted == 1, row.Tokens, bucket.TimeUntilToken(ratePerSecond), bucket.TimeUntilFull(ratePerSecond, burst));
    }

    public async Task ClearAsync(string tenantId, CancellationToken cancellationToken) =>
        await db.Database.ExecuteSqlAsync($"DELETE FROM ingress.rate_buckets WHERE tenant_id = {tenantId}", cancellationToken);
}

public sealed class InMemoryTenantRateLimiter(TimeProvider time) : ITenantRateLimiter
{
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public Task<RateDecision> TakeAsync(string tenantId, double ratePerSecond, int burst, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            var bucket = _buckets.GetValueOrDefault(tenantId, TokenBucket.Full(burst, now));
            var (granted, next) = bucket.Take(now, ratePerSecond, burst);
            _buckets[tenantId] = next;
            return Task.FromResult(new RateDecision(granted == 1, next.Tokens, next.TimeUntilToken(ratePerSecond), next.TimeUntilFull(ratePerSecond, burst)));
        }
    }

    public Task ClearAsync(string tenantId, CancellationToken cancellationToken)
    {
        _buckets.TryRemove(tenantId, out _);
        return Task.CompletedTask;
    }
}
