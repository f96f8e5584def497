using EdgeSigner.Contracts.Signing;
using MassTransit;

namespace EdgeSigner.Ingress.Batches;

/// <summary>
/// Keeps the results the workers report for batch items, many at a time, and announces each batch that ended
/// (<see cref="BatchCompleted"/>); a bus batch's results, and then its <see cref="BatchCompleted"/>, also go to the
/// results queue it named (<see cref="BatchStore.DeliverAsync"/>). The message is acknowledged after the results are
/// committed and sent; a redelivery keeps and sends nothing twice.
/// </summary>
public sealed class BatchItemEndedConsumer(BatchStore batches, ILogger<BatchItemEndedConsumer> logger) : IConsumer<Batch<BatchItemsEnded>>
{
    public async Task Consume(ConsumeContext<Batch<BatchItemsEnded>> context)
    {
        var ended = context.Message.SelectMany(m => m.Message.Items).ToList();
        var touched = await batches.RecordAsync(ended, context.CancellationToken);
        if (touched.Count == 0)
        {
            return;
        }

        await batches.DeliverAsync(ended, touched, (queue, result) => SendAsync(context, queue, result), context.CancellationToken);
        var completed = await batches.CompleteAsync(touched.Keys.ToList(), context.CancellationToken);
        if (completed.Count == 0)
        {
            return;
        }

        await Task.WhenAll(completed.Where(c => c.ResultsQueue is not null).Select(c => SendAsync(context, c.ResultsQueue!, c.Event)));
        await Task.WhenAll(completed.Select(c => context.Publish(c.Event, context.CancellationToken)));
        await batches.MarkAnnouncedAsync(completed.Select(c => c.Event.BatchId), context.CancellationToken);
        foreach (var (c, _) in completed)
        {
            logger.LogInformation("Batch {BatchId} completed: {Succeeded} signed, {Failed} failed", c.BatchId, c.Succeeded, c.Failed);
        }
    }

    /// <summary>To a bus batch's results queue (durable: it keeps the results while the tenant's service is down).</summary>
    private static async Task SendAsync<T>(ConsumeContext context, string queue, T message)
        where T : class
    {
        var endpoint = await context.GetSendEndpoint(new Uri($"queue:{queue}"));
        await endpoint.Send(message, context.CancellationToken);
    }
}

/// <summary>One durable queue shared by every ingress instance; up to 50 messages (each one group's results) per transaction.</summary>
public sealed class BatchItemEndedConsumerDefinition : ConsumerDefinition<BatchItemEndedConsumer>
{
    public BatchItemEndedConsumerDefinition()
    {
        EndpointName = "ingress-batch-items-ended";
        ConcurrentMessageLimit = 100;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<BatchItemEndedConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = 100;
        // The store unreachable: wait it out, the messages unacknowledged; a copy kept meanwhile by another instance
        // (the unique key refused this transaction) is found on the next try.
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Handle<Exception>(e => ServiceDefaults.Outage.OfDatabaseOrBroker(e) || e is Microsoft.EntityFrameworkCore.DbUpdateException);
            retry.Exponential(retryLimit: 10_000, minInterval: TimeSpan.FromMilliseconds(200), maxInterval: TimeSpan.FromSeconds(15),
                intervalDelta: TimeSpan.FromMilliseconds(500));
        });
        consumerConfigurator.Options<BatchOptions>(batch => batch.SetMessageLimit(50).SetTimeLimit(TimeSpan.FromMilliseconds(50)).SetConcurrencyLimit(2));
    }
}
