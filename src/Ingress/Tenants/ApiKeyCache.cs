using System.Collections.Concurrent;
using EdgeSigner.Ingress.Signing;
using Microsoft.Extensions.Options;

namespace EdgeSigner.Ingress.Tenants;

/// <summary>What an API key proves: its tenant, as the authentication handler needs it.</summary>
public sealed record TenantCredential(string TenantId, string KeyId, bool Disabled, int? RatePerSecond, int? Burst);

/// <summary>
/// The API keys this instance verified lately, by hash, so that the common path makes no database round trip. An
/// operator's change (a key revoked, a tenant disabled or enabled) evicts the tenant's entries here at once and, by
/// <see cref="Contracts.Admin.TenantAccessChanged"/>, on every other instance; an entry also expires after
/// <see cref="SignApiOptions.ApiKeyCacheSeconds"/>, the bound should that message be lost. Unknown keys are not cached:
/// a key issued a moment ago works on every instance at once.
/// </summary>
public sealed class ApiKeyCache(TimeProvider time, IOptions<SignApiOptions> options)
{
    private readonly ConcurrentDictionary<string, (TenantCredential Credential, DateTimeOffset Until)> _byHash = new(StringComparer.Ordinal);
    private long _generation;

    /// <summary>Changes with every eviction: a lookup that started before one must not cache what it read.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    public TenantCredential? Find(string keyHash)
    {
        if (!_byHash.TryGetValue(keyHash, out var entry))
        {
            return null;
        }

        if (time.GetUtcNow() < entry.Until)
        {
            return entry.Credential;
        }

        _byHash.TryRemove(new KeyValuePair<string, (TenantCredential, DateTimeOffset)>(keyHash, entry));
        return null;
    }

    /// <summary>Caches what a lookup read, unless a tenant's access changed since <paramref name="generation"/> (its start).</summary>
    public void Add(string keyHash, TenantCredential credential, long generation)
    {
        var lifetime = TimeSpan.FromSeconds(options.Value.ApiKeyCacheSeconds);
        if (lifetime <= TimeSpan.Zero || generation != Generation)
        {
            return;
        }

        _byHash[keyHash] = (credential, time.GetUtcNow() + lifetime);
        if (generation != Generation)
        {
            _byHash.TryRemove(keyHash, out _); // an eviction ran meanwhile: what was read may be stale
        }
    }

    /// <summary>Forgets every key of <paramref name="tenantId"/>: the next request of each is verified against the database.</summary>
    public void Evict(string tenantId)
    {
        Interlocked.Increment(ref _generation);
        foreach (var (hash, entry) in _byHash)
        {
            if (entry.Credential.TenantId == tenantId)
            {
                _byHash.TryRemove(hash, out _);
            }
        }
    }
}
