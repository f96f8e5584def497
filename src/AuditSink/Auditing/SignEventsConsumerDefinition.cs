using MassTransit;
using Microsoft.Extensions.Options;

namespace EdgeSigner.AuditSink.Auditing;

/// <summary>Owns the audit-sign-events endpoint: batch size and time limit, prefetch, and the retry policy.</summary>
public sealed class SignEventsConsumerDefinition : ConsumerDefinition<SignEventsConsumer>
{
    private readonly AuditSinkOptions _options;

    public SignEventsConsumerDefinition(IOptions<AuditSinkOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        EndpointName = "audit-sign-events";
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SignEventsConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // Enough unacknowledged messages in hand to fill every concurrent batch of every message type (five).
        endpointConfigurator.PrefetchCount = _options.BatchSize * _options.ConcurrentBatches * 5;
        consumerConfigurator.Options<BatchOptions>(batch => batch
            .SetMessageLimit(_options.BatchSize)
            .SetTimeLimit(TimeSpan.FromMilliseconds(_options.BatchTimeLimitMs))
            .SetConcurrencyLimit(_options.ConcurrentBatches));

        // The database may be away for a while: keep the batch (unacknowledged, still in the durable queue, so
        // redelivered if this process dies) and retry with growing pauses, capped at 30 s, for as long as it takes
        // (10,000 retries is more than three days). Written rows are idempotent, so a retry never duplicates.
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Handle<AuditStoreUnavailableException>();
            retry.Exponential(retryLimit: 10_000, minInterval: TimeSpan.FromMilliseconds(200), maxInterval: TimeSpan.FromSeconds(30),
                intervalDelta: TimeSpan.FromSeconds(1));
        });

        // Anything else (a bug, a row the database refuses) is retried three times, then the batch goes to the
        // error queue with its reason, where an operator can see and move it.
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Ignore<AuditStoreUnavailableException>();
            retry.Intervals(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2));
        });
    }
}
