using EdgeSigner.Contracts.Signing;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.Ingress.Batches;

/// <summary>Tells a worker whether a submitted batch was accepted before it signs any of it.</summary>
public sealed class GetBatchStateConsumer(Data.IngressDbContext db) : IConsumer<GetBatchState>
{
    public async Task Consume(ConsumeContext<GetBatchState> context)
    {
        var id = context.Message.BatchId;
        var state = await db.Batches.AsNoTracking().Where(b => b.BatchId == id).Select(b => b.State).FirstOrDefaultAsync(context.CancellationToken);
        await context.RespondAsync(new BatchStateReported { BatchId = id, State = state ?? BatchStateReported.Unknown });
    }
}

public sealed class GetBatchStateConsumerDefinition : ConsumerDefinition<GetBatchStateConsumer>
{
    public GetBatchStateConsumerDefinition() => EndpointName = GetBatchState.Address.AbsolutePath;
}
