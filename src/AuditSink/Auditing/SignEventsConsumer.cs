using EdgeSigner.Contracts.Admin;
using EdgeSigner.Contracts.Breakers;
using EdgeSigner.Contracts.Events;
using EdgeSigner.ServiceDefaults.Observability;
using MassTransit;

namespace EdgeSigner.AuditSink.Auditing;

/// <summary>
/// Collects audit events into batches and writes each batch in one statement. The batch is acknowledged only after
/// the statement committed; a failure goes to the retry policy of <see cref="SignEventsConsumerDefinition"/>.
/// </summary>
public sealed class SignEventsConsumer(SignEventWriter writer, AuditTrailWriter trail, AuditMetrics metrics, ILogger<SignEventsConsumer> logger) :
    IConsumer<Batch<SignAttempted>>,
    IConsumer<Batch<SignSucceeded>>,
    IConsumer<Batch<SignFailed>>,
    IConsumer<Batch<AdminActionRecorded>>,
    IConsumer<Batch<CircuitBreakerStateChanged>>
{
    public Task Consume(ConsumeContext<Batch<SignAttempted>> context) =>
        WriteAsync(context, context.Message.Select(m => (m.Message.EventId, SignEventWriter.AttemptType, m.Message.Log)).ToList());

    public Task Consume(ConsumeContext<Batch<SignSucceeded>> context) =>
        WriteAsync(context, context.Message.Select(m => (m.Message.EventId, SignEventWriter.SuccessType, m.Message.Log)).ToList());

    public Task Consume(ConsumeContext<Batch<SignFailed>> context) =>
        WriteAsync(context, context.Message.Select(m => (m.Message.EventId, SignEventWriter.FailureType, m.Message.Log)).ToList());

    public Task Consume(ConsumeContext<Batch<AdminActionRecorded>> context) =>
        StoreAsync("admin actions", context.Message.Length, () => trail.WriteAsync(context.Message.Select(m => m.Message).ToList(), context.CancellationToken));

    public Task Consume(ConsumeContext<Batch<CircuitBreakerStateChanged>> context) =>
        StoreAsync("breaker transitions", context.Message.Length, () => trail.WriteAsync(context.Message.Select(m => m.Message).ToList(), context.CancellationToken));

    private async Task WriteAsync(ConsumeContext context, List<(Guid, string Type, EdgeSignerLog Log)> events)
    {
        var written = await StoreAsync("sign events", events.Count, () => writer.WriteAsync(events, context.CancellationToken));
        metrics.RecordWritten(events[0].Type, written, events.Count - written);
        foreach (var (_, type, log) in events)
        {
            if (type != SignEventWriter.AttemptType)
            {
                SignLog.Write(logger, "audit-sink", log); // one line per request's outcome, as in the other services
            }
        }
    }

    /// <summary>Runs one write; an unreachable store becomes <see cref="AuditStoreUnavailableException"/> for the retry policy.</summary>
    private async Task<int> StoreAsync(string what, int count, Func<Task<int>> write)
    {
        int written;
        try
        {
            written = await write();
        }
        catch (Exception ex) when (AuditStoreUnavailableException.IsUnavailable(ex))
        {
            logger.LogWarning("The audit store is unreachable ({Reason}); {Count} {What} wait in the queue", ex.GetType().Name, count, what);
            throw new AuditStoreUnavailableException("The audit store is unreachable.", ex);
        }

        logger.LogDebug("Wrote {Written} of {Count} {What} ({Duplicates} already stored)", written, count, what, count - written);
        return written;
    }
}
