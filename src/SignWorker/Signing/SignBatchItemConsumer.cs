using EdgeSigner.Contracts.Signing;
using MassTransit;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>
/// Batch items from the <c>sign-batch-items</c> queue, taken many at a time (MassTransit's batch consumer), through
/// the <see cref="BulkSignPipeline"/>: the same work at a lower priority for KMS budget, with one database statement
/// for many items instead of several per item.
/// </summary>
public sealed class SignBatchItemConsumer(BulkSignPipeline pipeline) : IConsumer<Batch<SignRequested>>
{
    public Task Consume(ConsumeContext<Batch<SignRequested>> context) => pipeline.HandleAsync(context);
}
