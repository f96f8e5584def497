namespace EdgeSigner.Contracts.Signing;

/// <summary>
/// A whole batch in one message, sent by the ingress to the workers' <see cref="SignQueues.SubmittedBatchesAddress"/>
/// once it recorded the batch. A worker asks the ingress whether the batch was accepted (<see cref="GetBatchState"/>:
/// the client got its 202), turns an accepted one into its items on <see cref="SignQueues.BatchItemsAddress"/> and
/// acknowledges it only once the broker confirmed them all (a redelivery sends them again; their request ids make
/// the copies harmless). A batch whose submission failed, or whose ingress died before answering, is never signed.
/// </summary>
public sealed record SubmitBatch
{
    public required Guid BatchId { get; init; }
    public required string TenantId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required IReadOnlyList<SignRequested> Items { get; init; }
}

/// <summary>Asks the ingress, which owns batches, for a batch's state; answered with <see cref="BatchStateReported"/>.</summary>
public sealed record GetBatchState
{
    public static Uri Address { get; } = new("queue:ingress-batch-state");

    public required Guid BatchId { get; init; }
}

/// <summary>A batch's state: one of the constants below.</summary>
public sealed record BatchStateReported
{
    /// <summary>Recorded; the ingress has not yet said its 202 (it does right after the broker's confirm).</summary>
    public const string Submitting = "submitting";

    /// <summary>Its client got the 202: sign it.</summary>
    public const string Accepted = "accepted";

    /// <summary>Its submission failed and its client got an error: never sign it.</summary>
    public const string Abandoned = "abandoned";

    /// <summary>Never recorded, or pruned.</summary>
    public const string Unknown = "unknown";

    public required Guid BatchId { get; init; }
    public required string State { get; init; }
}

/// <summary>
/// Batch items' results, published by the worker that recorded them (through its outbox, so none is lost), one
/// message for all the items a worker recorded together: the ingress, which owns batches, keeps them for
/// <c>GET /v1/batches/{id}/results</c> and counts its batches' progress.
/// </summary>
public sealed record BatchItemsEnded
{
    public required IReadOnlyList<BatchItemEnded> Items { get; init; }
}

/// <summary>One batch item's result: its r||s signature, or the error type of its failure.</summary>
public sealed record BatchItemEnded
{
    public required Guid BatchId { get; init; }
    public required int ItemIndex { get; init; }
    public required string ItemId { get; init; }
    public required Guid RequestId { get; init; }
    public required string Kid { get; init; }
    public required string Format { get; init; }
    public string? SigningMode { get; init; }
    public required string TbsHash { get; init; }

    /// <summary>The r||s signature; null when the item failed (<see cref="ErrorType"/> says why).</summary>
    public byte[]? Signature { get; init; }

    public string? ErrorType { get; init; }
    public required DateTimeOffset CompletedAt { get; init; }
}
