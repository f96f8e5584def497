using EdgeSigner.Contracts.Signing;
using MassTransit;

namespace EdgeSigner.SignWorker.Batches;

/// <summary>The ingress's batch requests (<see cref="BatchRequests"/>), answered from <see cref="BatchStore"/>.</summary>
public sealed class BatchRequestsConsumer(BatchStore batches) :
    IConsumer<OpenBatch>, IConsumer<CloseBatch>, IConsumer<GetBatchStatus>, IConsumer<GetBatchResults>
{
    public async Task Consume(ConsumeContext<OpenBatch> context)
    {
        await batches.OpenAsync(context.Message, context.CancellationToken);
        await context.RespondAsync(new BatchStateChanged { BatchId = context.Message.BatchId, State = Data.BatchStates.Submitting });
    }

    public async Task Consume(ConsumeContext<CloseBatch> context)
    {
        var state = await batches.CloseAsync(context.Message, context.CancellationToken);
        await context.RespondAsync(new BatchStateChanged { BatchId = context.Message.BatchId, State = state ?? Data.BatchStates.Abandoned });
    }

    public async Task Consume(ConsumeContext<GetBatchStatus> context)
    {
        if (await batches.StatusAsync(context.Message, context.CancellationToken) is { } status)
        {
            await context.RespondAsync(status);
            return;
        }

        await context.RespondAsync(new BatchNotFound { BatchId = context.Message.BatchId });
    }

    public async Task Consume(ConsumeContext<GetBatchResults> context)
    {
        if (await batches.ResultsAsync(context.Message, context.CancellationToken) is { } page)
        {
            await context.RespondAsync(page);
            return;
        }

        await context.RespondAsync(new BatchNotFound { BatchId = context.Message.BatchId });
    }
}

public sealed class BatchRequestsConsumerDefinition : ConsumerDefinition<BatchRequestsConsumer>
{
    public BatchRequestsConsumerDefinition() => EndpointName = BatchRequests.Queue;
}
