using System.Security.Cryptography;
using System.Text;

namespace EdgeSigner.Ingress.Tenants;

/// <summary>
/// Tenant API keys: <c>esk_</c> followed by 32 random bytes in base64url. Only the SHA-256 of a key is stored.
/// A fast hash is the right one here: a key carries 256 bits of entropy, so there is nothing for a slow password
/// hash to protect, and every signing call pays for the hash.
/// </summary>
public static class ApiKeys
{
    public const string Prefix = "esk_";

    /// <summary>A fresh API key; shown once to its owner, never stored.</summary>
    public static string Generate() => Prefix + System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    /// <summary>A public id for a key, used to revoke it.</summary>
    public static string NewKeyId() => "key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>The stored form of a key.</summary>
    public static byte[] Hash(string apiKey) => SHA256.HashData(Encoding.UTF8.GetBytes(apiKey));

    /// <summary>Whether <paramref name="apiKey"/> hashes to <paramref name="storedHash"/>, compared in constant time.</summary>
    public static bool Matches(string apiKey, byte[] storedHash) =>
        CryptographicOperations.FixedTimeEquals(Hash(apiKey), storedHash);

    /// <summary>A plausible key: printable ASCII, 16 to 256 characters. Anything else is refused before any lookup.</summary>
    public static bool IsWellFormed(string? apiKey) =>
        apiKey is { Length: >= 16 and <= 256 } && apiKey.All(c => c is > ' ' and < (char)127);
}
