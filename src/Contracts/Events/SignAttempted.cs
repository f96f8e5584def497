namespace EdgeSigner.Contracts.Events;

/// <summary>The seed's <c>edge_sign_attempt</c>: a worker started signing a request.</summary>
public sealed record SignAttempted
{
    /// <summary>Unique per event; the audit store keeps one row per event id, whatever the redeliveries.</summary>
    public required Guid EventId { get; init; }
    public required EdgeSignerLog Log { get; init; }
}
