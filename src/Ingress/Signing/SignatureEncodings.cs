using EdgeSigner.Contracts.Tbs;

namespace EdgeSigner.Ingress.Signing;

/// <summary>
/// A signature as the API returns it, for <c>/v1/sign</c> and batch results alike: r||s in base64url, DER in
/// base64, and the finished JWS or COSE_Sign1 of the request's format.
/// </summary>
public sealed record SignatureEncodings(string Signature, string SignatureDer, string? Jws, string? Cose)
{
    public static SignatureEncodings Of(ToBeSigned tbs, byte[] signatureRs)
    {
        ArgumentNullException.ThrowIfNull(tbs);
        var assembled = tbs.Assemble(signatureRs);
        return new SignatureEncodings(
            System.Buffers.Text.Base64Url.EncodeToString(signatureRs),
            Convert.ToBase64String(EcdsaSignature.RsToDer(signatureRs)),
            tbs.Format == SignatureFormats.Jws ? assembled : null,
            tbs.Format == SignatureFormats.Cose ? assembled : null);
    }
}
