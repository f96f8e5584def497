using System.Security.Cryptography;

namespace EdgeSigner.SignWorker.Keys;

/// <summary>A logical ES256 key: one public key, held by an edge and a central backend.</summary>
public sealed class SigningKey(string kid, ISignerBackend edge, ISignerBackend central, byte[] publicKeyInfo) : IDisposable
{
    private readonly ECDsa _publicKey = ImportPublicKey(publicKeyInfo);

    public string Kid { get; } = kid;
    public ISignerBackend Edge { get; } = edge;
    public ISignerBackend Central { get; } = central;

    /// <summary>DER SubjectPublicKeyInfo shared by both backends.</summary>
    public byte[] PublicKeyInfo { get; } = publicKeyInfo;

    /// <summary>The public key's affine coordinates, for JWKS.</summary>
    public ECParameters PublicParameters() => _publicKey.ExportParameters(includePrivateParameters: false);

    /// <summary>Checks an r||s signature over a digest against the public key: no backend result is trusted blindly.</summary>
    public bool Verify(byte[] digest, byte[] signatureRs) =>
        _publicKey.VerifyHash(digest, signatureRs, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public void Dispose() => _publicKey.Dispose();

    private static ECDsa ImportPublicKey(byte[] publicKeyInfo)
    {
        var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(publicKeyInfo, out _);
        return key;
    }
}
