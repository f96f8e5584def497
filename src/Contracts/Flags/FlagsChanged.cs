namespace EdgeSigner.Contracts.Flags;

/// <summary>Published after every flag or break-glass change; every instance of every service applies it.</summary>
public sealed record FlagsChanged
{
    public required Guid EventId { get; init; }
    public required FlagsSnapshot Snapshot { get; init; }
}

/// <summary>Asks an ingress for the current snapshot (a worker at start, and as a periodic safety net).</summary>
public sealed record GetFlags
{
    public static Uri Address { get; } = new("queue:edge-signer-flags");
}
