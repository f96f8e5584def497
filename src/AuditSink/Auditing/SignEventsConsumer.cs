using EdgeSigner.Contracts.Admin;
using EdgeSigner.Contracts.Breakers;
using EdgeSigner.Contracts.Events;
using MassTransit;

namespace EdgeSigner.AuditSink.Auditing;

/// <summary>
/// Collects audit events into batches and writes each batch in one statement. The batch is acknowledged only after
/// the statement committed; a failure goes to the retry policy of <see cref="SignEventsConsumerDefinition"/>.
/// </summary>
public sealed class SignEventsConsumer(SignEventWriter writer, AuditTrailWriter trail, ILogger<SignEventsConsumer> logger) :
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
        var written = await trail.WriteAsync(context.Message.Select(m => m.Message).ToList(), context.CancellationToken);
        logger.LogDebug("Wrote {Written} of {Count} admin actions", written, context.Message.Length);
    }

    public async Task Consume(ConsumeContext<Batch<CircuitBreakerStateChanged>> context)
    {
        var written = await trail.WriteAsync(context.Message.Select(m => m.Message).ToList(), context.CancellationToken);
        logger.LogDebug("Wrote {Written} of {Count} breaker transitions", written, context.Message.Length);
    }

    private async Task WriteAsync(ConsumeContext context, List<(Guid, string, EdgeSignerLog)> events)
    {
        var written = await writer.WriteAsync(events, context.CancellationToken);
        logger.LogDebug("Wrote {Written} of {Count} sign events ({Duplicates} already stored)", written, events.Count, events.Count - written);
    }
}
