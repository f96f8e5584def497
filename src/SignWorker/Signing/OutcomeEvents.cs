using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.Observability;
using EdgeSigner.SignWorker.Results;
using MassTransit;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>
/// The last step of a signature: its outcome event (and, for batch items, the batch's results; the outbox publishes
/// them again if this publish is not confirmed), its analytics twin, its metric and its one log line.
/// </summary>
public sealed class OutcomeEvents(OutcomeOutbox outbox, SignerMetrics metrics, ILogger<OutcomeEvents> logger)
{
    /// <summary>One request ended. <paramref name="recorded"/>: its result is in the store, so its outbox row is done.</summary>
    public async Task EndedAsync(ConsumeContext<SignRequested> context, EdgeSignerLog log, byte[]? signatureRs, bool recorded)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(log);
        await Task.WhenAll(
            OutcomeOutbox.PublishAsync(context, log, signatureRs, context.Message.ItemIndex),
            context.Publish(AnalyticsEvent.From(log.Success ? AnalyticsEvent.Success : AnalyticsEvent.Failure, log)));
        if (recorded)
        {
            outbox.Published(log.RequestId);
        }

        Done(log);
    }

    /// <summary>Batch items recorded together: their results travel together, one batch-results message for the group.</summary>
    public async Task EndedAsync(ConsumeContext<Batch<SignRequested>> context, IReadOnlyList<(ConsumeContext<SignRequested> Item, SignedRequest Result)> ended)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(ended);
        await Task.WhenAll(ended
            .Select(e => e.Item.Publish(AnalyticsEvent.From(e.Result.Log.Success ? AnalyticsEvent.Success : AnalyticsEvent.Failure, e.Result.Log)))
            .Append(OutcomeOutbox.PublishAsync(context,
                ended.Select(e => new OutcomeOutbox.Ended(e.Result.Log, e.Result.Outcome.SignatureRs, e.Item.Message.ItemIndex)).ToList(),
                context.CancellationToken)));
        foreach (var e in ended)
        {
            outbox.Published(e.Result.Log.RequestId);
            Done(e.Result.Log);
        }
    }

    /// <summary>A replayed result: without an outbox (embedded mode) its outcome is published again, under the same event id.</summary>
    public async Task ReplayedAsync(ConsumeContext<SignRequested> context, Data.SignResultRecord recorded, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(recorded);
        logger.LogInformation("Replayed the recorded result of {RequestId} (a redelivery)", recorded.RequestId);
        if (!outbox.Enabled)
        {
            await OutcomeOutbox.PublishAsync(context, SignLogs.Replayed(context.Message, recorded, now), recorded.Signature, recorded.ItemIndex);
        }
    }

    private void Done(EdgeSignerLog log)
    {
        metrics.RecordOutcome(log);
        SignLog.Write(logger, "sign-worker", log);
    }
}
