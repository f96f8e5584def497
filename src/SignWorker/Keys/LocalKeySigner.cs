using System.Security.Cryptography;

namespace EdgeSigner.SignWorker.Keys;

/// <summary>A software P-256 key held in a PEM file (PKCS#8), for development and for operators who choose it.</summary>
public sealed class LocalKeySigner : ISignerBackend, IDisposable
{
    private readonly ECDsa _key;

    public LocalKeySigner(string path, string region)
    {
        KeyId = path;
        Region = region;
        _key = LocalKeyFile.LoadOrCreate(path);
    }

    public string KeyId { get; }
    public string Region { get; }

    public Task<byte[]> SignDigestAsync(byte[] digest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(digest);
        if (digest.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException("A SHA-256 digest is 32 bytes.", nameof(digest));
        }

        return Task.FromResult(_key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence));
    }

    public Task<byte[]> GetPublicKeyAsync(CancellationToken cancellationToken) =>
        Task.FromResult(_key.ExportSubjectPublicKeyInfo());

    public void Dispose() => _key.Dispose();
}
