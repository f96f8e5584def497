using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;

namespace EdgeSigner.SignWorker.Keys;

/// <summary>
/// An asymmetric ECC_NIST_P256 key in AWS KMS. Signs digests (<c>MessageType=DIGEST</c>, <c>ECDSA_SHA_256</c>) so
/// only the 32-byte hash leaves the service. The public key is fetched once, at start, by <see cref="SigningKeyRegistry"/>.
/// </summary>
public sealed class KmsSigner(IAmazonKeyManagementService client, string keyId, string region) : ISignerBackend
{
    public string KeyId { get; } = keyId;
    public string Region { get; } = region;

    public async Task<byte[]> SignDigestAsync(byte[] digest, CancellationToken cancellationToken)
    {
        using var message = new MemoryStream(digest, writable: false);
        var response = await client.SignAsync(new SignRequest
        {
            KeyId = KeyId,
            Message = message,
            MessageType = MessageType.DIGEST,
            SigningAlgorithm = SigningAlgorithmSpec.ECDSA_SHA_256,
        }, cancellationToken);
        return response.Signature.ToArray();
    }

    public async Task<byte[]> GetPublicKeyAsync(CancellationToken cancellationToken)
    {
        var response = await client.GetPublicKeyAsync(new GetPublicKeyRequest { KeyId = KeyId }, cancellationToken);
        if (response.KeySpec != KeySpec.ECC_NIST_P256)
        {
            throw new InvalidOperationException($"KMS key '{KeyId}' in {Region} is {response.KeySpec}, not ECC_NIST_P256.");
        }

        return response.PublicKey.ToArray();
    }
}
