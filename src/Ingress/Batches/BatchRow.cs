namespace EdgeSigner.Ingress.Batches;

/// <summary>
/// A batch submitted over HTTP or by a tenant's service on the bus (<c>ingress.batches</c>): the ingress is its one
/// owner, start to end.
/// </summary>
public sealed class BatchRow
{
    public Guid BatchId { get; set; }
    public string TenantId { get; set; } = string.Empty;
    public int ItemCount { get; set; }

    /// <summary>Items ended (signed or failed), counted once each when their result is kept.</summary>
    public int Ended { get; set; }

    /// <summary><c>submitting</c> until the broker confirmed the batch, then <c>accepted</c>; <c>abandoned</c> if that failed.</summary>
    public string State { get; set; } = BatchStates.Submitting;

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>Whether <c>BatchCompleted</c> went out (it is published again after a crash between the two).</summary>
    public bool CompletionPublished { get; set; }

    /// <summary>A bus batch's results queue (the sender's own), where each result and then <c>BatchCompleted</c> are sent; null for HTTP.</summary>
    public string? ResultsQueue { get; set; }

    /// <summary>A bus batch's results sent to <see cref="ResultsQueue"/> so far; the batch is announced once all are.</summary>
    public int Delivered { get; set; }
}

/// <summary>An ended item of a batch (<c>ingress.batch_items</c>), from the workers' <c>BatchItemsEnded</c>.</summary>
public sealed class BatchItemRow
{
    public Guid BatchId { get; set; }
    public int ItemIndex { get; set; }
    public string ItemId { get; set; } = string.Empty;
    public Guid RequestId { get; set; }
    public string Kid { get; set; } = string.Empty;
    public string Format { get; set; } = string.Empty;
    public string? SigningMode { get; set; }
    public string TbsHash { get; set; } = string.Empty;
    public byte[]? Signature { get; set; }
    public string? ErrorType { get; set; }
    public DateTimeOffset CompletedAt { get; set; }

    /// <summary>For a bus batch: the delivery that sent this result to the batch's results queue (claimed, sent, committed as one).</summary>
    public Guid? DeliveredBy { get; set; }
}

public static class BatchStates
{
    public const string Submitting = Contracts.Signing.BatchStateReported.Submitting;
    public const string Accepted = Contracts.Signing.BatchStateReported.Accepted;
    public const string Abandoned = Contracts.Signing.BatchStateReported.Abandoned;
}
