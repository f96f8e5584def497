namespace EdgeSigner.Contracts.Signing;

/// <summary>
/// The workers own batches (<c>signer.batches</c>) and their results: the ingress opens a batch before it queues its
/// items, closes it once the broker confirmed them all (or abandons it), and asks for its status and results, all by
/// request/response on <see cref="Address"/>.
/// </summary>
public static class BatchRequests
{
    public const string Queue = "sign-batches";

    public static Uri Address { get; } = new($"queue:{Queue}");
}

/// <summary>Records a batch as being submitted: its items, once queued, wait until it is accepted.</summary>
public sealed record OpenBatch
{
    public required Guid BatchId { get; init; }
    public required string TenantId { get; init; }
    public required int ItemCount { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>Ends a batch's submission: accepted (every item is queued) or abandoned (its items are dropped).</summary>
public sealed record CloseBatch
{
    public required Guid BatchId { get; init; }
    public required bool Accepted { get; init; }
}

/// <summary>The answer to <see cref="OpenBatch"/> and <see cref="CloseBatch"/>: the batch's state now.</summary>
public sealed record BatchStateChanged
{
    public required Guid BatchId { get; init; }
    public required string State { get; init; }
}

/// <summary>A tenant's accepted batch; another tenant's, or one not accepted, is <see cref="BatchNotFound"/>.</summary>
public sealed record GetBatchStatus
{
    public required Guid BatchId { get; init; }
    public required string TenantId { get; init; }
}

public sealed record BatchNotFound
{
    public required Guid BatchId { get; init; }
}

/// <summary>Progress counted from the recorded results: <c>pending</c>, <c>running</c> or <c>completed</c>.</summary>
public sealed record BatchStatusReported
{
    public required Guid BatchId { get; init; }
    public required string Status { get; init; }
    public required int ItemCount { get; init; }
    public required int Succeeded { get; init; }
    public required int Failed { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
}

/// <summary>One page of a batch's ended items, in item order, after the item index <see cref="After"/>.</summary>
public sealed record GetBatchResults
{
    public required Guid BatchId { get; init; }
    public required string TenantId { get; init; }
    public int After { get; init; } = -1;
    public required int Limit { get; init; }
}

public sealed record BatchResultsPage
{
    public required IReadOnlyList<BatchItemResult> Items { get; init; }

    /// <summary>The item index to pass as <see cref="GetBatchResults.After"/> for the next page; null on the last.</summary>
    public int? Next { get; init; }
}

/// <summary>An ended item: its r||s signature, or the error type of its failure.</summary>
public sealed record BatchItemResult
{
    public required string ItemId { get; init; }
    public required string Kid { get; init; }
    public required string Format { get; init; }
    public string? SigningMode { get; init; }
    public required string TbsHash { get; init; }
    public byte[]? Signature { get; init; }
    public string? ErrorType { get; init; }
}
