using System.Formats.Asn1;

namespace EdgeSigner.Contracts.Tbs;

/// <summary>
/// Conversions between the DER (X9.62 / RFC 3279 <c>SEQUENCE { r INTEGER, s INTEGER }</c>) signatures that KMS
/// returns and the fixed-width r||s (IEEE P1363) form that JWS and COSE use.
/// </summary>
public static class EcdsaSignature
{
    /// <summary>The size of one P-256 scalar.</summary>
    public const int P256ScalarLength = 32;

    /// <summary>The size of a P-256 r||s signature.</summary>
    public const int P256SignatureLength = 2 * P256ScalarLength;

    /// <summary>Converts a DER signature into r||s, each integer left-padded to <paramref name="scalarLength"/>.</summary>
    /// <exception cref="FormatException">The input is not a DER ECDSA signature with integers that fit.</exception>
    public static byte[] DerToRs(ReadOnlySpan<byte> der, int scalarLength = P256ScalarLength)
    {
        try
        {
            var reader = new AsnReader(der.ToArray(), AsnEncodingRules.DER);
            var sequence = reader.ReadSequence();
            var r = sequence.ReadIntegerBytes().Span;
            var s = sequence.ReadIntegerBytes().Span;
            sequence.ThrowIfNotEmpty();
            reader.ThrowIfNotEmpty();

            var result = new byte[2 * scalarLength];
            CopyUnsigned(r, result.AsSpan(0, scalarLength));
            CopyUnsigned(s, result.AsSpan(scalarLength, scalarLength));
            return result;
        }
        catch (AsnContentException ex)
        {
            throw new FormatException("Not a DER-encoded ECDSA signature.", ex);
        }
    }

    /// <summary>Converts r||s into the DER encoding.</summary>
    /// <exception cref="FormatException">The input is empty or of odd length.</exception>
    public static byte[] RsToDer(ReadOnlySpan<byte> rs)
    {
        if (rs.IsEmpty || rs.Length % 2 != 0)
        {
            throw new FormatException("An r||s signature has two integers of equal width.");
        }

        var half = rs.Length / 2;
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.PushSequence();
        writer.WriteIntegerUnsigned(TrimLeadingZeros(rs[..half]));
        writer.WriteIntegerUnsigned(TrimLeadingZeros(rs[half..]));
        writer.PopSequence();
        return writer.Encode();
    }

    private static void CopyUnsigned(ReadOnlySpan<byte> twosComplement, Span<byte> destination)
    {
        if (twosComplement.IsEmpty || (twosComplement[0] & 0x80) != 0)
        {
            throw new FormatException("An ECDSA signature integer must be positive.");
        }

        var magnitude = TrimLeadingZeros(twosComplement);
        if (magnitude.Length > destination.Length)
        {
            throw new FormatException($"An ECDSA signature integer is longer than {destination.Length} bytes.");
        }

        destination.Clear();
        magnitude.CopyTo(destination[(destination.Length - magnitude.Length)..]);
    }

    private static ReadOnlySpan<byte> TrimLeadingZeros(ReadOnlySpan<byte> value)
    {
        var i = 0;
        while (i < value.Length - 1 && value[i] == 0)
        {
            i++;
        }

        return value[i..];
    }
}
