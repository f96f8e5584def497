using System.Security.Cryptography;

namespace EdgeSigner.Contracts.Events;

/// <summary>
/// The event id of a request's outcome (<see cref="SignSucceeded"/> or <see cref="SignFailed"/>: a request ends
/// once), derived from its request id. Whoever publishes it, and however often (a redelivery that finds the result
/// recorded publishes it again, in case the first publish was lost), the audit store keeps one row.
/// </summary>
public static class EventIds
{
    public static Guid Outcome(Guid requestId)
    {
        Span<byte> input = stackalloc byte[16 + 8];
        requestId.TryWriteBytes(input);
        "outcome\0"u8.CopyTo(input[16..]);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        return new Guid(hash[..16]);
    }
}
