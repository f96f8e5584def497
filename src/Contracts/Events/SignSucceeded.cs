namespace EdgeSigner.Contracts.Events;

/// <summary>The seed's <c>edge_sign_success</c>: a request was signed.</summary>
public sealed record SignSucceeded
{
    /// <summary>Unique per event; the audit store keeps one row per event id, whatever the redeliveries.</summary>
    public required Guid EventId { get; init; }
    public required EdgeSignerLog Log { get; init; }
}
