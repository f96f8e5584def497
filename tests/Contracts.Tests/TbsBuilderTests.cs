using System.Formats.Cbor;
using System.Security.Cryptography;
using System.Security.Cryptography.Cose;
using System.Text;
using System.Text.Json;
using EdgeSigner.Contracts.Tbs;

namespace EdgeSigner.Contracts.Tests;

/// <summary>
/// Each format's TBS against its RFC construction, written out here independently of the builder, and each result
/// checked by a third-party verifier (jose-jwt for JWS, System.Security.Cryptography.Cose for COSE_Sign1).
/// </summary>
public sealed class TbsBuilderTests : IDisposable
{
    private const string Kid = "es256-test-1";
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("{\"doc\":\"an artifact to sign\",\"n\":42}\u00e9\u0000\u00ff");
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private byte[] SignDigest(ToBeSigned tbs) => _key.SignHash(tbs.Digest, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    [Fact]
    public void Raw_tbs_is_the_payload_and_its_signature_verifies_over_the_payload()
    {
        var tbs = ToBeSigned.Build(SignatureFormats.Raw, Kid, Payload);

        Assert.Equal(Payload, tbs.Bytes.ToArray());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Payload)), tbs.DigestHex);
        Assert.Null(tbs.Assemble(SignDigest(tbs)));
        Assert.True(_key.VerifyData(Payload, SignDigest(tbs), HashAlgorithmName.SHA256));
    }

    [Fact]
    public void Jws_signing_input_is_header_dot_payload_in_base64url()
    {
        var tbs = ToBeSigned.Build(SignatureFormats.Jws, Kid, Payload);

        var expectedHeader = B64Url(Encoding.UTF8.GetBytes("{\"alg\":\"ES256\",\"kid\":\"es256-test-1\"}"));
        var expected = Encoding.ASCII.GetBytes(expectedHeader + "." + B64Url(Payload));
        Assert.Equal(expected, tbs.Bytes.ToArray());
    }

    [Fact]
    public void Jws_compact_result_verifies_with_jose_jwt()
    {
        var tbs = ToBeSigned.Build(SignatureFormats.Jws, Kid, Payload);
        var jws = tbs.Assemble(SignDigest(tbs))!;

        var decoded = Jose.JWT.DecodeBytes(jws, PublicKey());
        Assert.Equal(Payload, decoded);
        var headers = Jose.JWT.Headers(jws);
        Assert.Equal("ES256", headers["alg"]);
        Assert.Equal(Kid, headers["kid"]);
    }

    [Fact]
    public void Jws_detached_result_has_an_empty_payload_part_and_verifies_with_the_payload_supplied()
    {
        var tbs = ToBeSigned.Build(SignatureFormats.Jws, Kid, Payload, detached: true);
        var jws = tbs.Assemble(SignDigest(tbs))!;

        var parts = jws.Split('.');
        Assert.Equal(3, parts.Length);
        Assert.Empty(parts[1]);
        var decoded = Jose.JWT.DecodeBytes(jws, PublicKey(), payload: Payload);
        Assert.Equal(Payload, decoded);
        Assert.ThrowsAny<Exception>(() => Jose.JWT.DecodeBytes(jws, PublicKey(), payload: Encoding.UTF8.GetBytes("tampered")));
    }

    [Fact]
    public void Cose_tbs_is_the_rfc9052_sig_structure()
    {
        var tbs = ToBeSigned.Build(SignatureFormats.Cose, Kid, Payload);

        var header = new CborWriter();
        header.WriteStartMap(2);
        header.WriteInt32(1);
        header.WriteInt32(-7);
        header.WriteInt32(4);
        header.WriteByteString(Encoding.UTF8.GetBytes(Kid));
        header.WriteEndMap();
        var sigStructure = new CborWriter();
        sigStructure.WriteStartArray(4);
        sigStructure.WriteTextString("Signature1");
        sigStructure.WriteByteString(header.Encode());
        sigStructure.WriteByteString([]);
        sigStructure.WriteByteString(Payload);
        sigStructure.WriteEndArray();
        Assert.Equal(sigStructure.Encode(), tbs.Bytes.ToArray());
    }

    [Fact]
    public void Cose_sign1_verifies_with_the_dotnet_cose_library_attached_and_detached()
    {
        var attached = ToBeSigned.Build(SignatureFormats.Cose, Kid, Payload);
        var message = CoseMessage.DecodeSign1(Convert.FromBase64String(attached.Assemble(SignDigest(attached))!));
        Assert.True(message.VerifyEmbedded(PublicKey()));
        Assert.Equal(Payload, message.Content!.Value.ToArray());
        Assert.Equal(CoseHeaderValue.FromInt32(-7), message.ProtectedHeaders[CoseHeaderLabel.Algorithm]);
        Assert.Equal(Encoding.UTF8.GetBytes(Kid), message.ProtectedHeaders[CoseHeaderLabel.KeyIdentifier].GetValueAsBytes());
        Assert.Empty(message.UnprotectedHeaders);

        var detached = ToBeSigned.Build(SignatureFormats.Cose, Kid, Payload, detached: true);
        var bytes = Convert.FromBase64String(detached.Assemble(SignDigest(detached))!);
        Assert.Equal(0xD2, bytes[0]); // CBOR tag 18: COSE_Sign1
        var detachedMessage = CoseMessage.DecodeSign1(bytes);
        Assert.Null(detachedMessage.Content);
        Assert.True(detachedMessage.VerifyDetached(PublicKey(), Payload));
        Assert.False(detachedMessage.VerifyDetached(PublicKey(), Encoding.UTF8.GetBytes("tampered")));
    }

    [Theory]
    [InlineData("xml")]
    [InlineData("")]
    [InlineData("RAW")]
    public void Unknown_formats_are_refused(string format) =>
        Assert.Throws<ArgumentException>(() => ToBeSigned.Build(format, Kid, Payload));

    [Fact]
    public void A_signature_of_the_wrong_length_is_refused() =>
        Assert.Throws<ArgumentException>(() => ToBeSigned.Build(SignatureFormats.Jws, Kid, Payload).Assemble(new byte[63]));

    [Fact]
    public void The_jws_header_escapes_a_kid_as_json_would()
    {
        var tbs = JwsTbs.Create("k\"id", Payload);
        using var header = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(tbs.EncodedHeader));
        Assert.Equal("k\"id", header.RootElement.GetProperty("kid").GetString());
    }

    private ECDsa PublicKey() => ECDsa.Create(_key.ExportParameters(false));

    private static string B64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Dispose() => _key.Dispose();
}
