using System.Security.Cryptography;
using EdgeSigner.Contracts.Tbs;

namespace EdgeSigner.Contracts.Tests;

public sealed class EcdsaSignatureTests
{
    [Fact]
    public void Der_from_dotnet_converts_to_an_rs_that_verifies_and_back_to_a_der_that_verifies()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        for (var i = 0; i < 200; i++)
        {
            var digest = SHA256.HashData(BitConverter.GetBytes(i));
            var der = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);

            var rs = EcdsaSignature.DerToRs(der);
            Assert.Equal(64, rs.Length);
            Assert.True(key.VerifyHash(digest, rs, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));

            var back = EcdsaSignature.RsToDer(rs);
            Assert.Equal(der, back); // DER is canonical: the round trip is byte for byte
            Assert.True(key.VerifyHash(digest, back, DSASignatureFormat.Rfc3279DerSequence));
        }
    }

    [Fact]
    public void Short_integers_are_left_padded()
    {
        // SEQUENCE { INTEGER 1, INTEGER 0x0203 }
        var rs = EcdsaSignature.DerToRs([0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x02, 0x03]);

        var expected = new byte[64];
        expected[31] = 0x01;
        expected[62] = 0x02;
        expected[63] = 0x03;
        Assert.Equal(expected, rs);
        Assert.Equal([0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x02, 0x02, 0x03], EcdsaSignature.RsToDer(rs));
    }

    [Fact]
    public void A_high_bit_integer_carries_a_leading_zero_in_der_and_loses_it_in_rs()
    {
        var rs = new byte[64];
        Array.Fill(rs, (byte)0xFF, 0, 32);
        rs[63] = 0x7F;

        var der = EcdsaSignature.RsToDer(rs);

        // r: 33 bytes (0x00 then 32 x 0xFF); s: one byte 0x7F.
        Assert.Equal(new byte[] { 0x30, 0x26, 0x02, 0x21, 0x00 }, der[..5]);
        Assert.Equal(new byte[] { 0x02, 0x01, 0x7F }, der[^3..]);
        Assert.Equal(rs, EcdsaSignature.DerToRs(der));
    }

    [Fact]
    public void An_rs_with_leading_zero_bytes_encodes_minimally()
    {
        var rs = new byte[64];
        rs[5] = 0x11; // r has five leading zero bytes
        rs[40] = 0x80; // s has eight leading zero bytes, then a high bit
        var der = EcdsaSignature.RsToDer(rs);

        Assert.Equal(0x02, der[2]);
        Assert.Equal(27, der[3]); // r: 32 - 5 bytes
        Assert.Equal(rs, EcdsaSignature.DerToRs(der));
    }

    public static TheoryData<byte[]> Malformed => new()
    {
        Array.Empty<byte>(),
        new byte[] { 0x30, 0x00 },
        new byte[] { 0x30, 0x03, 0x02, 0x01, 0x01 },
        new byte[] { 0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01 }, // negative r
        new byte[] { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00 }, // trailing byte
        new byte[] { 0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01 }, // non-minimal integer
        Concat([0x30, 0x26, 0x02, 0x21, 0x01], new byte[32], [0x02, 0x01, 0x01]), // r of 33 significant bytes
        new byte[] { 0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01 }, // SET, not SEQUENCE
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_der_is_a_format_exception(byte[] der) =>
        Assert.Throws<FormatException>(() => EcdsaSignature.DerToRs(der));

    [Theory]
    [InlineData(0)]
    [InlineData(63)]
    public void Rs_of_odd_or_no_length_is_a_format_exception(int length) =>
        Assert.Throws<FormatException>(() => EcdsaSignature.RsToDer(new byte[length]));

    [Fact]
    public void Random_bytes_never_escape_as_anything_but_format_exception()
    {
        var random = new Random(20261130);
        for (var i = 0; i < 5000; i++)
        {
            var bytes = new byte[random.Next(0, 80)];
            random.NextBytes(bytes);
            if (i % 2 == 0 && bytes.Length > 2)
            {
                bytes[0] = 0x30;
                bytes[1] = (byte)(bytes.Length - 2);
            }

            try
            {
                var rs = EcdsaSignature.DerToRs(bytes);
                Assert.Equal(64, rs.Length);
            }
            catch (FormatException)
            {
                // the documented failure
            }
        }
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
