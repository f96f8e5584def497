using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.Signing;
using MassTransit;

namespace EdgeSigner.SignWorker.Batches;

/// <summary>
/// Splits a submitted batch into its items on the batch-items queue. The batch message is acknowledged only after the
/// broker confirmed every item; if this worker dies midway the batch is redelivered and its items sent again, and
/// each item's request id makes a copy replay the one result instead of signing twice.
/// </summary>
public sealed class SubmitBatchConsumer(ILogger<SubmitBatchConsumer> logger) : IConsumer<SubmitBatch>
{
    private const int SendGroup = 500;

    public async Task Consume(ConsumeContext<SubmitBatch> context)
    {
        var batch = context.Message;
        var items = await context.GetSendEndpoint(SignQueues.BatchItemsAddress);
        foreach (var group in batch.Items.Chunk(SendGroup))
        {
            await items.SendBatch(group, context.CancellationToken);
        }

        logger.LogInformation("Batch {BatchId} of {TenantId}: {Count} items queued", batch.BatchId, batch.TenantId, batch.Items.Count);
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
