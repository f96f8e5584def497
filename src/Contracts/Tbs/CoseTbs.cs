using System.Formats.Cbor;
using System.Text;

namespace EdgeSigner.Contracts.Tbs;

/// <summary>
/// COSE_Sign1 (RFC 9052 §4.2, §4.4) with ES256: protected header <c>{1: -7, 4: h'kid'}</c>, unprotected <c>{}</c>,
/// the Sig_structure <c>["Signature1", protected, h'', payload]</c> as TBS, and the message with tag 18.
/// </summary>
public static class CoseTbs
{
    private const int HeaderAlg = 1;
    private const int HeaderKid = 4;
    private const int AlgEs256 = -7;
    private const ulong TagSign1 = 18;

    /// <summary>The serialized protected header map (the bytes that go into a bstr).</summary>
    public static byte[] ProtectedHeader(string kid)
    {
        var writer = new CborWriter(CborConformanceMode.Canonical);
        writer.WriteStartMap(2);
        writer.WriteInt32(HeaderAlg);
        writer.WriteInt32(AlgEs256);
        writer.WriteInt32(HeaderKid);
        writer.WriteByteString(Encoding.UTF8.GetBytes(kid));
        writer.WriteEndMap();
        return writer.Encode();
    }

    /// <summary>The Sig_structure for Signature1 with empty external AAD: the to-be-signed bytes.</summary>
    public static byte[] SigStructure(byte[] protectedHeader, ReadOnlySpan<byte> payload)
    {
        var writer = new CborWriter(CborConformanceMode.Canonical);
        writer.WriteStartArray(4);
        writer.WriteTextString("Signature1");
        writer.WriteByteString(protectedHeader);
        writer.WriteByteString([]);
        writer.WriteByteString(payload);
        writer.WriteEndArray();
        return writer.Encode();
    }

    /// <summary>The tagged COSE_Sign1 message; a null payload makes it detached (payload nil).</summary>
    public static byte[] Sign1(byte[] protectedHeader, byte[]? payload, ReadOnlySpan<byte> signatureRs)
    {
        var writer = new CborWriter(CborConformanceMode.Lax);
        writer.WriteTag((CborTag)TagSign1);
        writer.WriteStartArray(4);
        writer.WriteByteString(protectedHeader);
        writer.WriteStartMap(0);
        writer.WriteEndMap();
        if (payload is null)
        {
            writer.WriteNull();
        }
        else
        {
            writer.WriteByteString(payload);
        }

        writer.WriteByteString(signatureRs);
        writer.WriteEndArray();
        return writer.Encode();
    }
}
