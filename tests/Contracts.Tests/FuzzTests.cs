using System.Security.Cryptography;
using CsCheck;
using EdgeSigner.Contracts.Tbs;

namespace EdgeSigner.Contracts.Tests;

/// <summary>
/// Random input (CsCheck) into the DER parser and the TBS builders: only the documented exceptions ever escape,
/// and what they accept round-trips.
/// </summary>
public sealed class FuzzTests
{
    [Fact]
    public void The_der_parser_takes_any_bytes_and_throws_only_format_exceptions()
    {
        Gen.Byte.Array[0, 120].Sample(bytes =>
        {
            try
            {
                var rs = EcdsaSignature.DerToRs(bytes);
                Assert.Equal(EcdsaSignature.P256SignatureLength, rs.Length);
                Assert.Equal(rs, EcdsaSignature.DerToRs(EcdsaSignature.RsToDer(rs))); // what it accepts, it can write back
            }
            catch (FormatException)
            {
            }
        }, iter: 20_000);
    }

    [Fact]
    public void Mutated_real_signatures_parse_or_throw_format_exceptions()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var der = key.SignHash(SHA256.HashData("fuzz"u8), DSASignatureFormat.Rfc3279DerSequence);
        Gen.Select(Gen.Int[0, der.Length - 1], Gen.Byte, Gen.Int[0, 3], (at, value, how) => (at, value, how)).Sample(m =>
        {
            var mutated = m.how switch
            {
                0 => der.ToArray().Also(d => d[m.at] = m.value),
                1 => der[..m.at],
                2 => [.. der[..m.at], m.value, .. der[m.at..]],
                _ => [.. der, m.value],
            };
            try
            {
                Assert.Equal(64, EcdsaSignature.DerToRs(mutated).Length);
            }
            catch (FormatException)
            {
            }
        }, iter: 20_000);
    }

    [Fact]
    public void The_rs_to_der_writer_takes_any_bytes_and_throws_only_format_exceptions()
    {
        Gen.Byte.Array[0, 130].Sample(bytes =>
        {
            try
            {
                var der = EcdsaSignature.RsToDer(bytes);
                Assert.Equal(0x30, der[0]);
            }
            catch (FormatException)
            {
            }
        }, iter: 20_000);
    }

    [Fact]
    public void The_tbs_builders_take_any_payload_and_format_and_throw_only_argument_exceptions()
    {
        var formats = Gen.OneOf(Gen.OneOf("raw", "jws", "cose", "RAW", "", " jws", "cose\0"), Gen.String);
        var kids = Gen.OneOf(Gen.OneOf("es256-1", "k"), Gen.String);
        Gen.Select(formats, kids, Gen.Byte.Array[0, 2048], Gen.Bool).Sample((format, kid, payload, detached) =>
        {
            try
            {
                var tbs = ToBeSigned.Build(format, kid, payload, detached);
                Assert.Equal(32, tbs.Digest.Length);
                Assert.Equal(SHA256.HashData(tbs.Bytes), tbs.Digest);
                var assembled = tbs.Assemble(new byte[64]);
                Assert.True(assembled is not null || tbs.Format == SignatureFormats.Raw);
            }
            catch (ArgumentException)
            {
            }
        }, iter: 5_000);
    }
}

internal static class Mutation
{
    public static byte[] Also(this byte[] bytes, Action<byte[]> change)
    {
        change(bytes);
        return bytes;
    }
}
