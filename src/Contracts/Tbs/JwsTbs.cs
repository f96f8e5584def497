using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace EdgeSigner.Contracts.Tbs;

/// <summary>
/// JWS (RFC 7515) with ES256: the signing input is ASCII(BASE64URL(header) '.' BASE64URL(payload)) with header
/// <c>{"alg":"ES256","kid":"&lt;kid&gt;"}</c>. A detached result leaves the payload part empty (RFC 7515 appendix F).
/// </summary>
public sealed class JwsTbs
{
    private JwsTbs(string encodedHeader, string encodedPayload)
    {
        EncodedHeader = encodedHeader;
        EncodedPayload = encodedPayload;
        SigningInput = Encoding.ASCII.GetBytes(encodedHeader + "." + encodedPayload);
    }

    public string EncodedHeader { get; }
    public string EncodedPayload { get; }
    public byte[] SigningInput { get; }

    public static JwsTbs Create(string kid, ReadOnlySpan<byte> payload)
    {
        var header = JsonSerializer.SerializeToUtf8Bytes(new JwsHeader("ES256", kid), JwsJsonContext.Default.JwsHeader);
        return new JwsTbs(Base64Url.EncodeToString(header), Base64Url.EncodeToString(payload));
    }

    /// <summary>The compact serialization: header.payload.signature, or header..signature when detached.</summary>
    public string Compact(ReadOnlySpan<byte> signatureRs, bool detached) =>
        $"{EncodedHeader}.{(detached ? string.Empty : EncodedPayload)}.{Base64Url.EncodeToString(signatureRs)}";
}

internal sealed record JwsHeader(
    [property: System.Text.Json.Serialization.JsonPropertyName("alg")] string Alg,
    [property: System.Text.Json.Serialization.JsonPropertyName("kid")] string Kid);

[System.Text.Json.Serialization.JsonSerializable(typeof(JwsHeader))]
internal sealed partial class JwsJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
