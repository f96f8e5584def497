namespace EdgeSigner.SignWorker.Keys;

/// <summary>
/// One place that holds a P-256 private key and signs SHA-256 digests with it: an AWS KMS key in a region, or a
/// local key file. The true edge of the worker, replaced in tests by fault-injecting servers, not by mocks.
/// </summary>
public interface ISignerBackend
{
    /// <summary>The key's identifier at the backend (KMS key id or ARN, or the key file path).</summary>
    string KeyId { get; }

    /// <summary>The backend's region (<c>local</c> for key files).</summary>
    string Region { get; }

    /// <summary>Signs a 32-byte SHA-256 digest; returns the DER (X9.62) signature.</summary>
    Task<byte[]> SignDigestAsync(byte[] digest, CancellationToken cancellationToken);

    /// <summary>The public key as a DER SubjectPublicKeyInfo.</summary>
    Task<byte[]> GetPublicKeyAsync(CancellationToken cancellationToken);
}
