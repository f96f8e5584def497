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

    public async Task Consume(ConsumeContext<Batch<AdminActionRecorded>> context)
    {
        var written = await StoreAsync("admin actions", context.Message.Length,
            () => trail.WriteAsync(context.Message.Select(m => m.Message).ToList(), context.CancellationToken), n => n);
        metrics.RecordWritten("admin_action", written, context.Message.Length - written);
    }

    public async Task Consume(ConsumeContext<Batch<CircuitBreakerStateChanged>> context)
    {
        var written = await StoreAsync("breaker transitions", context.Message.Length,
            () => trail.WriteAsync(context.Message.Select(m => m.Message).ToList(), context.CancellationToken), n => n);
        metrics.RecordWritten("breaker_transition", written, context.Message.Length - written);
    }

    private async Task WriteAsync(ConsumeContext context, List<(Guid, string Type, EdgeSignerLog Log)> events)
    {
        var result = await StoreAsync("sign events", events.Count, () => writer.WriteAsync(events, context.CancellationToken), r => r.Written);
        metrics.RecordWritten(events[0].Type, result.Written, Math.Max(0, events.Count - result.Expired - result.Written));
        foreach (var (_, type, log) in events)
        {
            if (type != SignEventWriter.AttemptType)
            {
                SignLog.Write(logger, "audit-sink", log); // one line per request's outcome, as in the other services
            }
        }
    }

    /// <summary>Runs one write; an unreachable store becomes <see cref="AuditStoreUnavailableException"/> for the retry policy.</summary>
    private async Task<T> StoreAsync<T>(string what, int count, Func<Task<T>> write, Func<T, int> rowsWritten)
    {
        T result;
        try
        {
            result = await write();
        }
        catch (Exception ex) when (AuditStoreUnavailableException.IsUnavailable(ex))
        {
            logger.LogWarning("The audit store is unreachable ({Reason}); {Count} {What} wait in the queue", ex.GetType().Name, count, what);
            throw new AuditStoreUnavailableException("The audit store is unreachable.", ex);
        }

        var written = rowsWritten(result);
        logger.LogDebug("Wrote {Written} of {Count} {What} ({Duplicates} already stored)", written, count, what, count - written);
        return result;
    }
}
