namespace EdgeSigner.Contracts.Events;

/// <summary>The seed's <c>edge_sign_failure</c>: a request could not be signed; the log carries the error type and message.</summary>
public sealed record SignFailed
{
    /// <summary>Unique per event; the audit store keeps one row per event id, whatever the redeliveries.</summary>
    public required Guid EventId { get; init; }
    public required EdgeSignerLog Log { get; init; }
}
