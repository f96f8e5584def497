using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

namespace EdgeSigner.Testing;

/// <summary>Reads <c>/v1/keys</c> as any client would and builds verification keys from it, independent of the service's code.</summary>
public static class Jwks
{
    public static async Task<Dictionary<string, ECDsa>> FetchAsync(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var document = await http.GetFromJsonAsync<JsonElement>("/v1/keys");
        var keys = new Dictionary<string, ECDsa>(StringComparer.Ordinal);
        foreach (var jwk in document.GetProperty("keys").EnumerateArray())
        {
            var key = ECDsa.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP256,
                Q = new ECPoint
                {
                    X = System.Buffers.Text.Base64Url.DecodeFromChars(jwk.GetProperty("x").GetString()),
                    Y = System.Buffers.Text.Base64Url.DecodeFromChars(jwk.GetProperty("y").GetString()),
                },
            });
            keys[jwk.GetProperty("kid").GetString()!] = key;
        }

        return keys;
    }
}
