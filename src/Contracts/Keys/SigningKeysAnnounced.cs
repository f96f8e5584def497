namespace EdgeSigner.Contracts.Keys;

/// <summary>
/// A worker's signing keys, by their public halves: published by every worker at start, periodically, and when an
/// ingress asks (<see cref="AnnounceSigningKeys"/>). The ingress serves <c>/v1/keys</c> from these announcements,
/// so what it publishes is what the workers sign with, by construction: it holds no key of its own.
/// </summary>
public sealed record SigningKeysAnnounced
{
    public required string WorkerInstance { get; init; }
    public required DateTimeOffset AnnouncedAt { get; init; }

    /// <summary>The kid this worker's configuration signs new requests with.</summary>
    public required string ActiveKid { get; init; }

    public required IReadOnlyList<AnnouncedKey> Keys { get; init; }
}

/// <summary>One key: its kid, its DER SubjectPublicKeyInfo, and the lower-case hex SHA-256 of that.</summary>
public sealed record AnnouncedKey
{
    public required string Kid { get; init; }
    public required byte[] PublicKey { get; init; }
    public required string Fingerprint { get; init; }
}

/// <summary>Asks every worker to announce its keys now (an ingress that just started).</summary>
public sealed record AnnounceSigningKeys
{
    public required DateTimeOffset RequestedAt { get; init; }
}

/// <summary>How often workers announce, and how long an ingress counts a worker as live after its last announcement.</summary>
public static class KeyAnnouncements
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan LiveFor = TimeSpan.FromSeconds(15);
}
