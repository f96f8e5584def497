using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.Signing;
using MassTransit;

namespace EdgeSigner.SignWorker.Batches;

/// <summary>
/// Splits a submitted batch into its items on the batch-items queue, once the ingress says it was accepted. The batch
/// message is acknowledged only after the broker confirmed every item; if this worker dies midway the batch is
/// redelivered and its items sent again, and each item's request id makes a copy replay the one result instead of
/// signing twice. A batch not accepted yet (the ingress marks it right after the broker's confirm) is asked about
/// again for a few seconds, then goes back to the end of the queue; one still not accepted after
/// <see cref="SubmissionWindow"/>, or abandoned, is dropped: its client got an error, not a 202.
/// </summary>
public sealed class SubmitBatchConsumer(IRequestClient<GetBatchState> ingress, TimeProvider time, ILogger<SubmitBatchConsumer> logger)
    : IConsumer<SubmitBatch>
{
    public static readonly TimeSpan SubmissionWindow = TimeSpan.FromMinutes(5);

    private const int SendGroup = 500;
    private static readonly TimeSpan AskAgainFor = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan AskEvery = TimeSpan.FromMilliseconds(100);

    public async Task Consume(ConsumeContext<SubmitBatch> context)
    {
        var batch = context.Message;
        var state = await StateAsync(batch.BatchId, context.CancellationToken);
        for (var asked = TimeSpan.Zero; state == BatchStateReported.Submitting && asked < AskAgainFor; asked += AskEvery)
        {
            await Task.Delay(AskEvery, time, context.CancellationToken);
            state = await StateAsync(batch.BatchId, context.CancellationToken);
        }

        if (state is BatchStateReported.Submitting or null && time.GetUtcNow() - batch.CreatedAt < SubmissionWindow)
        {
            // Not decided yet (or the ingress did not answer): back to the end of the queue, confirmed before this
            // copy is acknowledged (the broker has no delayed delivery here).
            var queue = await context.GetSendEndpoint(context.ReceiveContext.InputAddress);
            await queue.Send(batch, context.CancellationToken);
            return;
        }

        if (state != BatchStateReported.Accepted)
        {
            logger.LogWarning("Dropped batch {BatchId} of {TenantId} ({Count} items): its submission was {State}", batch.BatchId, batch.TenantId,
                batch.Items.Count, state ?? "never confirmed by an ingress");
            return;
        }

        var items = await context.GetSendEndpoint(SignQueues.BatchItemsAddress);
        foreach (var group in batch.Items.Chunk(SendGroup))
        {
            await items.SendBatch(group, context.CancellationToken);
        }

        logger.LogInformation("Batch {BatchId} of {TenantId}: {Count} items queued", batch.BatchId, batch.TenantId, batch.Items.Count);
    }

    /// <summary>The batch's state as the ingress keeps it; null when no ingress answered in time.</summary>
    private async Task<string?> StateAsync(Guid batchId, CancellationToken cancellationToken)
    {
        try
        {
            return (await ingress.GetResponse<BatchStateReported>(new GetBatchState { BatchId = batchId }, cancellationToken, RequestTimeout.After(s: 5)))
                .Message.State;
        }
        catch (RequestTimeoutException)
        {
            return null;
        }
    }
}

public sealed class SubmitBatchConsumerDefinition : ConsumerDefinition<SubmitBatchConsumer>
{
    public SubmitBatchConsumerDefinition()
    {
        EndpointName = SignQueues.SubmittedBatches;
        ConcurrentMessageLimit = 2; // a batch message can hold 10,000 items
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SubmitBatchConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = 2;
        endpointConfigurator.ConfigureConsumeTopology = false;
        SignRequestedConsumerDefinition.ConfigureRetries(endpointConfigurator);
    }
}
