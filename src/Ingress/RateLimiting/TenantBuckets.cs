using System.Collections.Concurrent;
using EdgeSigner.Guardrails.RateLimiting;
using Npgsql;

namespace EdgeSigner.Ingress.RateLimiting;

/// <summary>What a tenant's shared bucket gave: whole tokens granted, and the tokens left in it.</summary>
public readonly record struct TenantGrant(int Granted, double Tokens);

/// <summary>
/// Each tenant's shared token bucket, where every ingress instance sees the same one: a row per tenant in PostgreSQL,
/// or, in embedded mode where there is one instance, memory. <see cref="TenantRateLimiter"/> leases from it in blocks.
/// </summary>
public interface ITenantBuckets
{
    /// <summary>Takes up to <paramref name="wanted"/> tokens, at least one or none.</summary>
    Task<TenantGrant> TakeAsync(string tenantId, double ratePerSecond, int burst, int wanted, CancellationToken cancellationToken);

    /// <summary>Refills the tenant's bucket (the operator's <c>clear</c>).</summary>
    Task ClearAsync(string tenantId, CancellationToken cancellationToken);
}

/// <summary>
/// One row per tenant in <c>ingress.rate_buckets</c>, taken from by <c>ingress.take_tokens</c> (the shared token-bucket
/// function) in one statement on the database's clock, so instances' clocks do not matter.
/// </summary>
public sealed class PostgresTenantBuckets(NpgsqlDataSource dataSource) : ITenantBuckets
{
    public async Task<TenantGrant> TakeAsync(string tenantId, double ratePerSecond, int burst, int wanted, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT granted, tokens FROM ingress.take_tokens($1, $2, $3, $4, 0.0, 1)");
        command.Parameters.AddWithValue(tenantId);
        command.Parameters.AddWithValue(ratePerSecond);
        command.Parameters.AddWithValue((double)burst);
        command.Parameters.AddWithValue(wanted);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new TenantGrant(reader.GetInt32(0), reader.GetDouble(1));
    }

    public async Task ClearAsync(string tenantId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM ingress.rate_buckets WHERE tenant_id = $1");
        command.Parameters.AddWithValue(tenantId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>Embedded mode: one process, so the shared buckets are token buckets in memory.</summary>
public sealed class InMemoryTenantBuckets(TimeProvider time) : ITenantBuckets
{
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public Task<TenantGrant> TakeAsync(string tenantId, double ratePerSecond, int burst, int wanted, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            var bucket = _buckets.GetValueOrDefault(tenantId, TokenBucket.Full(burst, now));
            var (granted, next) = bucket.Take(now, ratePerSecond, burst, wanted);
            _buckets[tenantId] = next;
            return Task.FromResult(new TenantGrant(granted, next.Tokens));
        }
    }

    public Task ClearAsync(string tenantId, CancellationToken cancellationToken)
    {
        _buckets.TryRemove(tenantId, out _);
        return Task.CompletedTask;
    }
}
