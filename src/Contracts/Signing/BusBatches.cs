namespace EdgeSigner.Contracts.Signing;

/// <summary>
/// A tenant's fire-and-forget batch, sent on the bus by its own service (to <see cref="TenantBusNames.BatchesAddress"/>,
/// which an operator bound to <see cref="Queue"/>). The ingress, which owns tenants and batches, checks the sender and
/// every item with the guardrails of <c>POST /v1/batches</c>, records the batch and hands it to the workers; each
/// item's result (<see cref="BatchItemEnded"/>) and then <see cref="BatchCompleted"/> are sent to
/// <see cref="ResultsQueue"/>, a durable queue of the sender's own, where they wait while its service is down.
/// Sent with the request client, the answer is <see cref="BusBatchAccepted"/> or <see cref="BusRequestRefused"/>.
/// Sending the same batch again (same <see cref="BatchId"/>) is harmless: it is recorded and signed once.
/// </summary>
public sealed record SubmitBusBatch
{
    public const string Queue = "edge-signer-bus-batches";

    public required Guid BatchId { get; init; }
    public required string TenantId { get; init; }

    /// <summary>Where the results go: a queue whose name starts with the sender's <see cref="TenantBusNames.Prefix"/>.</summary>
    public required string ResultsQueue { get; init; }

    public required IReadOnlyList<BusBatchItem> Items { get; init; }
}

/// <summary>One item of a <see cref="SubmitBusBatch"/>: the digest of its to-be-signed bytes, as for <see cref="SignRequested"/>.</summary>
public sealed record BusBatchItem
{
    /// <summary>The item's own request id: a redelivered or resent batch signs it once.</summary>
    public required Guid RequestId { get; init; }

    /// <summary>The tenant's name for the item, unique in the batch: 1 to 255 visible ASCII characters.</summary>
    public required string ItemId { get; init; }

    public required string Kid { get; init; }
    public required string Format { get; init; }
    public required byte[] TbsDigest { get; init; }
    public required int PayloadSize { get; init; }
}

public sealed record BusBatchAccepted
{
    public required Guid BatchId { get; init; }
    public required int ItemCount { get; init; }
}
