using System.Security.Cryptography;

namespace EdgeSigner.Contracts.Tbs;

/// <summary>
/// The to-be-signed bytes of one request in one format, and how to turn the signature over them into the format's
/// result. Built with <see cref="Build"/>; a bus client builds it exactly as the ingress does.
/// </summary>
public sealed class ToBeSigned
{
    private readonly byte[] _tbs;
    private readonly Func<byte[], string?> _assemble;

    private ToBeSigned(string format, string kid, bool detached, byte[] tbs, Func<byte[], string?> assemble)
    {
        Format = format;
        Kid = kid;
        Detached = detached;
        _tbs = tbs;
        _assemble = assemble;
        Digest = SHA256.HashData(tbs);
    }

    public string Format { get; }
    public string Kid { get; }
    public bool Detached { get; }

    /// <summary>The exact bytes whose SHA-256 is signed.</summary>
    public ReadOnlySpan<byte> Bytes => _tbs;

    /// <summary>SHA-256 of <see cref="Bytes"/>: what travels on the bus and reaches KMS.</summary>
    public byte[] Digest { get; }

    /// <summary>Lower-case hex of <see cref="Digest"/>, the <c>tbs_hash</c> of logs and audit rows.</summary>
    public string DigestHex => Convert.ToHexStringLower(Digest);

    /// <summary>
    /// The format's result for a 64-byte r||s signature over this TBS: the compact JWS for <c>jws</c>, the
    /// base64 of the tagged COSE_Sign1 for <c>cose</c>, null for <c>raw</c> (whose result is the signature itself).
    /// </summary>
    public string? Assemble(byte[] signatureRs)
    {
        ArgumentNullException.ThrowIfNull(signatureRs);
        if (signatureRs.Length != EcdsaSignature.P256SignatureLength)
        {
            throw new ArgumentException($"An ES256 signature is {EcdsaSignature.P256SignatureLength} bytes.", nameof(signatureRs));
        }

        return _assemble(signatureRs);
    }

    /// <summary>Builds the TBS of <paramref name="payload"/> for <paramref name="format"/>.</summary>
    /// <exception cref="ArgumentException">The format is unknown or the kid is empty.</exception>
    public static ToBeSigned Build(string format, string kid, ReadOnlySpan<byte> payload, bool detached = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(kid);
        switch (format)
        {
            case SignatureFormats.Raw:
                return new ToBeSigned(format, kid, detached, payload.ToArray(), _ => null);
            case SignatureFormats.Jws:
                {
                    var jws = JwsTbs.Create(kid, payload);
                    return new ToBeSigned(format, kid, detached, jws.SigningInput, sig => jws.Compact(sig, detached));
                }
            case SignatureFormats.Cose:
                {
                    var protectedHeader = CoseTbs.ProtectedHeader(kid);
                    var payloadCopy = payload.ToArray();
                    var tbs = CoseTbs.SigStructure(protectedHeader, payloadCopy);
                    return new ToBeSigned(format, kid, detached, tbs,
                        sig => Convert.ToBase64String(CoseTbs.Sign1(protectedHeader, detached ? null : payloadCopy, sig)));
                }
            default:
                throw new ArgumentException($"Unknown format '{format}'; expected raw, jws or cose.", nameof(format));
        }
    }
}
