using EdgeSigner.Contracts.Signing;
using EdgeSigner.Contracts.Tbs;
using EdgeSigner.Ingress.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EdgeSigner.Ingress.Signing;

/// <summary>The checked inputs of one signing call, or the problem that says what is wrong with them.</summary>
public sealed record SignInput(byte[] Payload, string Format, bool Detached, string? IdempotencyKey, string? ClientRegion)
{
    public ProblemHttpResult? Problem { get; private init; }

    private static SignInput Fail(ProblemHttpResult problem) => new([], string.Empty, false, null, null) { Problem = problem };

    public static SignInput Validate(SignEndpoints.SignBody body, IHeaderDictionary headers, int maxPayload)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(headers);
        var (payload, format, error, tooLarge) = CheckPayload(body.Payload, body.Format, maxPayload);
        if (error is not null)
        {
            return Fail(tooLarge
                ? Problems.Create(StatusCodes.Status413PayloadTooLarge, ErrorTypes.PayloadTooLarge, error)
                : Problems.InvalidRequest(error));
        }

        var idempotencyKey = headers["Idempotency-Key"].ToString();
        if (headers.ContainsKey("Idempotency-Key") && !IsVisibleAscii(idempotencyKey, 255))
        {
            return Fail(Problems.InvalidRequest("Idempotency-Key must be 1 to 255 visible ASCII characters."));
        }

        var region = headers["X-Client-Region"].ToString();
        if (region.Length > 0 && !IsVisibleAscii(region, 64))
        {
            return Fail(Problems.InvalidRequest("X-Client-Region must be 1 to 64 visible ASCII characters."));
        }

        return new SignInput(payload!, format, body.Detached ?? false,
            idempotencyKey.Length > 0 ? idempotencyKey : null, region.Length > 0 ? region : null);
    }

    /// <summary>The checks a payload and format pass, for a single request or a batch item; the error says which.</summary>
    public static (byte[]? Payload, string Format, string? Error, bool TooLarge) CheckPayload(string? base64, string? requestedFormat, int maxPayload)
    {
        var format = requestedFormat ?? SignatureFormats.Raw;
        if (!SignatureFormats.IsKnown(format))
        {
            return (null, format, "format must be raw, jws or cose.", false);
        }

        if (base64 is null)
        {
            return (null, format, "payload is required (standard base64).", false);
        }

        var payload = StrictBase64.Decode(base64);
        if (payload is null)
        {
            return (null, format, "payload is not valid standard base64 (no whitespace, '=' padding).", false);
        }

        return payload.Length > maxPayload
            ? (null, format, $"The decoded payload is {payload.Length} bytes; the limit is {maxPayload}.", true)
            : (payload, format, null, false);
    }

    public static bool IsVisibleAscii(string? value, int maxLength) =>
        value is not null && value.Length >= 1 && value.Length <= maxLength && value.All(c => c is > ' ' and < (char)127);

}

/// <summary>Standard base64 with padding and nothing else: the lenient decoders accept whitespace, this one does not.</summary>
public static class StrictBase64
{
    public static byte[]? Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length % 4 != 0 || text.Any(char.IsWhiteSpace))
        {
            return null;
        }

        var buffer = new byte[text.Length / 4 * 3];
        return Convert.TryFromBase64String(text, buffer, out var written) ? buffer[..written] : null;
    }
}
