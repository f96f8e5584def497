using EdgeSigner.Contracts.Signing;
using MassTransit;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>
/// Synchronous and bus requests from the <c>sign-requested</c> queue, through the <see cref="SignPipeline"/>. A
/// request someone waits for (it has a reply address) holds a <see cref="SyncFirst"/> turn: this worker's batch items
/// wait for it.
/// </summary>
public sealed class SignRequestedConsumer(SignPipeline pipeline, SyncFirst syncFirst) : IConsumer<SignRequested>
{
    public async Task Consume(ConsumeContext<SignRequested> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.ResponseAddress is null)
        {
            await pipeline.HandleAsync(context, batchItem: false);
            return;
        }

        using var turn = syncFirst.Enter();
        await pipeline.HandleAsync(context, batchItem: false);
    }
}
