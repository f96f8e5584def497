namespace EdgeSigner.Contracts.Signing;

/// <summary>
/// Where <see cref="SignRequested"/> is sent. Sending to a queue address (not publishing) makes the broker declare
/// and bind the durable queue on first send, so a request sent before any worker started waits there.
/// </summary>
public static class SignQueues
{
    public const string SignRequested = "sign-requested";

    public static Uri SignRequestedAddress { get; } = new($"queue:{SignRequested}");

    /// <summary>Batch items go through a queue of their own, so they never delay synchronous requests.</summary>
    public const string BatchItems = "sign-batch-items";

    public static Uri BatchItemsAddress { get; } = new($"queue:{BatchItems}");

    /// <summary>Whole batches (<see cref="SubmitBatch"/>), which a worker splits into their items.</summary>
    public const string SubmittedBatches = "sign-batches";

    public static Uri SubmittedBatchesAddress { get; } = new($"queue:{SubmittedBatches}");
}
