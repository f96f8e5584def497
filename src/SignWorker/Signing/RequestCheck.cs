using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.Keys;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>A request as the worker can sign it (its key and the hex of its digest), or why it cannot.</summary>
public sealed record CheckedRequest(SigningKey? Key, string TbsHash, string? ErrorType, string? Message)
{
    public bool CanSign => ErrorType is null;
}

/// <summary>The first step of a signature: is there a 32-byte digest and a key of that kid?</summary>
public static class RequestCheck
{
    public static CheckedRequest Check(SignRequested request, Func<string, SigningKey?> findKey)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(findKey);
        if (request.TbsDigest is not { Length: 32 })
        {
            return new CheckedRequest(null, string.Empty, ErrorTypes.InvalidRequest, "The TBS digest must be 32 bytes.");
        }

        var tbsHash = Convert.ToHexStringLower(request.TbsDigest);
        return findKey(request.Kid) is { } key
            ? new CheckedRequest(key, tbsHash, null, null)
            : new CheckedRequest(null, tbsHash, ErrorTypes.UnknownKey, $"No signing key '{request.Kid}'.");
    }
}
