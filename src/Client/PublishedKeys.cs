using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

namespace EdgeSigner.Client;

/// <summary>
/// The public keys EdgeSigner publishes (<c>GET /v1/keys</c>, a JWKS), fetched once and again when a result names a
/// kid not seen yet.
/// </summary>
public sealed class PublishedKeys(HttpClient http) : IDisposable
{
    private readonly ConcurrentDictionary<string, ECDsa> _keys = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _refresh = new(1, 1);

    /// <summary>The key of <paramref name="kid"/>; null when EdgeSigner does not publish it.</summary>
    public async Task<ECDsa?> FindAsync(string kid, CancellationToken cancellationToken)
    {
        if (_keys.TryGetValue(kid, out var key))
        {
            return key;
        }

        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (!_keys.ContainsKey(kid))
            {
                var document = await http.GetFromJsonAsync<JsonElement>("v1/keys", cancellationToken);
                foreach (var jwk in document.GetProperty("keys").EnumerateArray())
                {
                    var id = jwk.GetProperty("kid").GetString()!;
                    _keys.TryAdd(id, ECDsa.Create(new ECParameters
                    {
                        Curve = ECCurve.NamedCurves.nistP256,
                        Q = new ECPoint
                        {
                            X = System.Buffers.Text.Base64Url.DecodeFromChars(jwk.GetProperty("x").GetString()),
                            Y = System.Buffers.Text.Base64Url.DecodeFromChars(jwk.GetProperty("y").GetString()),
                        },
                    }));
                }
            }
        }
        finally
        {
            _refresh.Release();
        }

        return _keys.GetValueOrDefault(kid);
    }

    public void Dispose()
    {
        _refresh.Dispose();
        foreach (var key in _keys.Values)
        {
            key.Dispose();
        }
    }
}
