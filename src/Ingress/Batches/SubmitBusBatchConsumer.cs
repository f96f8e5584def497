using EdgeSigner.Client;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Contracts.Tbs;
using EdgeSigner.Ingress.Data;
using EdgeSigner.Ingress.Signing;
using EdgeSigner.Ingress.Tenants;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EdgeSigner.Ingress.Batches;

/// <summary>
/// A tenant's fire-and-forget batch from its own service (<see cref="SubmitBusBatch"/>), checked as
/// <c>POST /v1/batches</c> checks one: the sender and tenant (<see cref="BusTenantGate"/>), a results queue of the
/// sender's own, 1 to <see cref="BatchEndpoints.MaxItems"/> well-formed items within the payload limit, one rate
/// token. An accepted batch is recorded and sent whole to the workers, as an HTTP one is; its results then go to the
/// results queue (<see cref="BatchItemEndedConsumer"/>). The message is acknowledged once the workers' queue confirmed
/// the batch; a redelivery, or the same batch sent again, finds it recorded and sends it again (the items' request ids
/// make the workers sign each once), without a second rate token.
/// </summary>
public sealed class SubmitBusBatchConsumer(
    BusTenantGate gate, BatchStore batches, IngressDbContext db, IOptions<SignApiOptions> api, TimeProvider time, ILogger<SubmitBusBatchConsumer> logger)
    : IConsumer<SubmitBusBatch>
{
    public async Task Consume(ConsumeContext<SubmitBusBatch> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var message = context.Message;
        var sender = BrokerIdentity.SenderOf(context);
        var recorded = await db.Batches.AsNoTracking().FirstOrDefaultAsync(b => b.BatchId == message.BatchId, context.CancellationToken);
        var refusal = recorded switch
        {
            null => await RefusalAsync(context, sender),
            _ when recorded.TenantId != message.TenantId || recorded.ResultsQueue is null || recorded.ItemCount != message.Items.Count =>
                new BusRefusal(ErrorTypes.InvalidRequest, $"Batch id {message.BatchId} is already used by another batch."),
            _ => null,
        };
        if (refusal is not null)
        {
            logger.LogWarning("Refused bus batch {BatchId} of {TenantId} from broker user {BrokerUser}: {ErrorType}",
                message.BatchId, message.TenantId, sender ?? "(none)", refusal.ErrorType);
            if (refusal.ErrorType == ErrorTypes.SenderNotAllowed)
            {
                await context.Publish(BusSenderRefusal.Event(NewId.NextGuid(), time.GetUtcNow(), sender, message.TenantId ?? string.Empty, message.BatchId));
            }

            await AnswerAsync(context, new BusRequestRefused { RequestId = message.BatchId, ErrorType = refusal.ErrorType, Message = refusal.Message });
            return;
        }

        var batch = recorded ?? new BatchRow
        {
            BatchId = message.BatchId, TenantId = message.TenantId, ItemCount = message.Items.Count, CreatedAt = time.GetUtcNow(), ResultsQueue = message.ResultsQueue,
        };
        if (recorded is null)
        {
            await batches.CreateAsync(batch, context.CancellationToken);
        }

        var deadline = batch.CreatedAt.AddHours(api.Value.BatchItemDeadlineHours);
        var endpoint = await context.GetSendEndpoint(SignQueues.SubmittedBatchesAddress);
        await endpoint.Send(new SubmitBatch
        {
            BatchId = batch.BatchId,
            TenantId = batch.TenantId,
            CreatedAt = batch.CreatedAt,
            Items = message.Items.Select((item, i) => new SignRequested
            {
                RequestId = item.RequestId,
                TenantId = batch.TenantId,
                Kid = item.Kid,
                Format = item.Format,
                TbsDigest = item.TbsDigest,
                PayloadSize = item.PayloadSize,
                Deadline = deadline,
                ReceivedAt = batch.CreatedAt,
                BatchId = batch.BatchId,
                ItemId = item.ItemId,
                ItemIndex = i,
            }).ToList(),
        }, context.CancellationToken);
        await batches.CloseAsync(batch.BatchId, BatchStates.Accepted, context.CancellationToken);
        logger.LogInformation("Bus batch {BatchId} of {TenantId} accepted: {ItemCount} items, results to {ResultsQueue}",
            batch.BatchId, batch.TenantId, batch.ItemCount, batch.ResultsQueue);
        await AnswerAsync(context, new BusBatchAccepted { BatchId = batch.BatchId, ItemCount = batch.ItemCount });
    }

    private async Task<BusRefusal?> RefusalAsync(ConsumeContext<SubmitBusBatch> context, string? sender)
    {
        var message = context.Message;
        if (sender is null)
        {
            return new(ErrorTypes.SenderNotAllowed, TenantBusNames.NoSenderDetail);
        }

        var (tenant, refusal) = await gate.AdmitSenderAsync(sender, message.TenantId ?? string.Empty, context.CancellationToken);
        if (tenant is null)
        {
            return refusal;
        }

        if (!TenantBusNames.IsOwnedBy(message.ResultsQueue, sender))
        {
            return new(ErrorTypes.InvalidRequest, $"results_queue must be a queue name under '{TenantBusNames.Prefix(sender)}' (letters, digits, '.', '-', '_').");
        }

        return ItemsRefusal(message.Items, tenant) ?? await gate.TakeTokenAsync(tenant, context.CancellationToken);
    }

    /// <summary>The whole batch is checked before anything is queued: one bad item, and nothing is.</summary>
    private static BusRefusal? ItemsRefusal(IReadOnlyList<BusBatchItem>? items, BusTenant tenant)
    {
        if (items is null || items.Count is 0 or > BatchEndpoints.MaxItems)
        {
            return new(ErrorTypes.InvalidRequest, $"items must hold 1 to {BatchEndpoints.MaxItems} items.");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            var problem = item switch
            {
                null => "the item is missing.",
                _ when !SignInput.IsVisibleAscii(item.ItemId, 255) => "item_id must be 1 to 255 visible ASCII characters.",
                _ when !ids.Add(item.ItemId) => $"item_id \"{item.ItemId}\" is used twice in this batch.",
                _ when !SignatureFormats.IsKnown(item.Format) => "format must be raw, jws or cose.",
                _ when item.TbsDigest is not { Length: 32 } => "tbs_digest must be the 32-byte SHA-256 of the to-be-signed bytes.",
                _ when !SignInput.IsVisibleAscii(item.Kid, 128) => "kid must be 1 to 128 visible ASCII characters.",
                _ => null,
            };
            if (problem is not null)
            {
                return new(ErrorTypes.InvalidRequest, $"items[{i}]: {problem}");
            }

            if (BusTenantGate.CheckPayloadSize(tenant, item!.PayloadSize, $"items[{i}] (item_id \"{item.ItemId}\")") is { } tooLarge)
            {
                return tooLarge;
            }
        }

        return null;
    }

    /// <summary>Answers a request-client send; a batch sent without a response address gets none (its refusal is logged).</summary>
    private static Task AnswerAsync<T>(ConsumeContext context, T answer)
        where T : class =>
        context.ResponseAddress is null ? Task.CompletedTask : context.RespondAsync(answer);
}

/// <summary>
/// One durable queue for every ingress instance, bound by the operator to each tenant user's batches exchange
/// (<see cref="TenantBusNames.BatchesExchange"/>). The broker or the store away: the batch waits, unacknowledged.
/// </summary>
public sealed class SubmitBusBatchConsumerDefinition : ConsumerDefinition<SubmitBusBatchConsumer>
{
    public SubmitBusBatchConsumerDefinition()
    {
        EndpointName = SubmitBusBatch.Queue;
        ConcurrentMessageLimit = 8;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SubmitBusBatchConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Handle<Exception>(e => ServiceDefaults.Outage.OfDatabaseOrBroker(e) || e is DbUpdateException);
            retry.Exponential(retryLimit: 10_000, minInterval: TimeSpan.FromMilliseconds(200), maxInterval: TimeSpan.FromSeconds(15),
                intervalDelta: TimeSpan.FromMilliseconds(500));
        });
    }
}
