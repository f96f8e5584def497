namespace EdgeSigner.Contracts.Signing;

/// <summary>The answer to a <see cref="SignRequested"/> that was signed.</summary>
public sealed record SignCompleted
{
    public required Guid RequestId { get; init; }
    public required string TenantId { get; init; }
    public required string Kid { get; init; }

    /// <summary><c>edge-tbs+remote-es256</c> or <c>central-fallback</c> (see <see cref="SigningModes"/>).</summary>
    public required string SigningMode { get; init; }

    /// <summary>The region of the backend that signed.</summary>
    public required string Region { get; init; }

    /// <summary>Lower-case hex SHA-256 of the TBS.</summary>
    public required string TbsHash { get; init; }

    /// <summary>The 64-byte IEEE P1363 signature, r||s.</summary>
    public required byte[] Signature { get; init; }

    /// <summary>The same signature, DER encoded (X9.62 / RFC 3279).</summary>
    public required byte[] SignatureDer { get; init; }

    public required DateTimeOffset CompletedAt { get; init; }

    /// <summary>The worker's <c>EdgeSignerLog</c> of the request (null on a replay), for the ingress's log line.</summary>
    public Events.EdgeSignerLog? Log { get; init; }
}
