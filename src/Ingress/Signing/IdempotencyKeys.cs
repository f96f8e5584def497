using System.Security.Cryptography;
using System.Text;
using EdgeSigner.Ingress.Data;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.Ingress.Signing;

/// <summary>A client's Idempotency-Key, per tenant, for 24 hours (<c>ingress.idempotency_keys</c>).</summary>
public sealed class IdempotencyKeyRow
{
    public string TenantId { get; set; } = string.Empty;
    public string Key { get; set; } = string.Empty;
    public byte[] RequestHash { get; set; } = [];
    public Guid RequestId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// Maps a tenant's Idempotency-Key to one request id for 24 hours. The worker keeps one result per request id, so a
/// replay gets the first result byte for byte (even while the first call is still being signed, or after it timed
/// out); the same key with a different request is a conflict.
/// </summary>
public sealed class IdempotencyKeys(IngressDbContext db, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    /// <summary>What identifies a request: its format, its detached flag and its payload.</summary>
    public static byte[] HashOf(string format, bool detached, ReadOnlySpan<byte> payload)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes($"{format}\n{(detached ? 1 : 0)}\n"));
        sha.AppendData(payload);
        return sha.GetHashAndReset();
    }

    /// <summary>Deletes the keys whose <see cref="Lifetime"/> ended before <paramref name="now"/>; returns how many went.</summary>
    public Task<int> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var delete = "DELETE FROM " + db.Table("idempotency_keys") + " WHERE created_at < {0}"; // the table name is ours, the time a parameter
        return db.Database.ExecuteSqlRawAsync(delete, [now - Lifetime], cancellationToken);
    }

    /// <summary>The request id to use for this key; <c>Conflict</c> when the key was used for another request.</summary>
    public async Task<(Guid RequestId, bool Conflict)> ResolveAsync(string tenantId, string key, byte[] requestHash, Guid newRequestId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var table = db.Table("idempotency_keys");
        var upsert =
            $"INSERT INTO {table} (tenant_id, key, request_hash, request_id, created_at) VALUES ({{0}}, {{1}}, {{2}}, {{3}}, {{4}}) " +
            "ON CONFLICT (tenant_id, key) DO UPDATE SET request_hash = excluded.request_hash, request_id = excluded.request_id, created_at = excluded.created_at " +
            $"WHERE {table}.created_at < {{5}}";
        await db.Database.ExecuteSqlRawAsync(upsert, [tenantId, key, requestHash, newRequestId, now, now - Lifetime], cancellationToken);
        var row = await db.IdempotencyKeys.AsNoTracking().SingleAsync(k => k.TenantId == tenantId && k.Key == key, cancellationToken);
        return (row.RequestId, !row.RequestHash.AsSpan().SequenceEqual(requestHash));
    }
}
