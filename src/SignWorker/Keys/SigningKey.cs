using System.Security.Cryptography;

namespace EdgeSigner.SignWorker.Keys;

/// <summary>A logical ES256 key: one public key, held by an edge and a central backend.</summary>
public sealed class SigningKey(
    string kid, ISignerBackend edge, IReadOnlyList<ISignerBackend> edgeReplicas, ISignerBackend central, byte[] publicKeyInfo,
    bool fallbackOnConfigurationError = false) : IDisposable
{
    private readonly Dictionary<string, ISignerBackend> _edgeByRegion =
        edgeReplicas.Prepend(edge).ToDictionary(b => b.Region, StringComparer.OrdinalIgnoreCase);

    private readonly ECDsa _publicKey = ImportPublicKey(publicKeyInfo);

    public string Kid { get; } = kid;
    public ISignerBackend Edge { get; } = edge;
    public ISignerBackend Central { get; } = central;

    /// <summary>The key's policy: may a configuration error of the edge backend fall back to central?</summary>
    public bool FallbackOnConfigurationError { get; } = fallbackOnConfigurationError;

    /// <summary>The edge backend for a caller's region (smart placement), or the default edge when null.</summary>
    public ISignerBackend EdgeFor(string? clientRegion) =>
        clientRegion is null ? Edge : _edgeByRegion[Routing.EdgePlacement.Choose(clientRegion, _edgeByRegion.Keys, Edge.Region)];

    /// <summary>The edge backends (default and replicas): the ones behind a circuit breaker.</summary>
    public IEnumerable<ISignerBackend> EdgeBackends => _edgeByRegion.Values;

    /// <summary>Every backend of the key: the edge ones (default and replicas), then central.</summary>
    public IEnumerable<ISignerBackend> AllBackends => _edgeByRegion.Values.Append(Central);

    /// <summary>DER SubjectPublicKeyInfo shared by both backends.</summary>
    public byte[] PublicKeyInfo { get; } = publicKeyInfo;

    /// <summary>Lower-case hex SHA-256 of <see cref="PublicKeyInfo"/>: names the public key in logs and announcements.</summary>
    public string Fingerprint { get; } = Convert.ToHexStringLower(SHA256.HashData(publicKeyInfo));

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
