using EdgeSigner.Contracts.Signing;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>Owns the sign-requested endpoint's policy: its name, concurrency, prefetch and retries.</summary>
public sealed class SignRequestedConsumerDefinition : ConsumerDefinition<SignRequestedConsumer>
{
    private readonly SignWorkerOptions _options;

    public SignRequestedConsumerDefinition(IOptions<SignWorkerOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        EndpointName = SignQueues.SignRequested;
        ConcurrentMessageLimit = _options.ConcurrentMessageLimit;
    }

    /// <summary>
    /// The policy both signing endpoints share. A request another worker is signing is retried later: by then it has a recorded result to replay, or the other worker's claim has
    /// expired (it died) and this one takes over. Backend failures never get here (FallbackSigner handles them);
    /// what does (the bus or the result store failing) is retried, then goes to the error queue with its reason.
    /// </summary>
    internal static void ConfigureRetries(IReceiveEndpointConfigurator endpointConfigurator)
    {
        // The result store unreachable (PostgreSQL down or restarting): wait it out, the message unacknowledged in its
        // durable queue, rather than send it to the error queue after a few seconds.
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Handle<Exception>(ServiceDefaults.Outage.OfDatabase);
            retry.Exponential(retryLimit: 10_000, minInterval: TimeSpan.FromMilliseconds(200), maxInterval: TimeSpan.FromSeconds(15),
                intervalDelta: TimeSpan.FromMilliseconds(500));
        });

        // The broker gone: retry for about a minute, not for ever. A message whose channel died is redelivered on a
        // new one anyway (it was never acknowledged); retrying it without end would hold a consumer slot on a dead
        // channel.
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Handle<Exception>(ServiceDefaults.Outage.OfBroker);
            retry.Intervals(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10),
                TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(15));
        });
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Handle<Results.ResultPendingException>();
            retry.Intervals([500, 1000, 2000, 5000, 10_000, 15_000, 30_000]);
        });
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Ignore<Results.ResultPendingException>();
            retry.Ignore<Exception>(ServiceDefaults.Outage.OfDatabaseOrBroker);
            retry.Ignore<ArgumentException>();
            retry.Ignore<FormatException>();
            retry.Intervals(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(2));
        });
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SignRequestedConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = _options.PrefetchCount;
        endpointConfigurator.ConfigureConsumeTopology = false; // requests are sent to the queue, never published
        ConfigureRetries(endpointConfigurator);
    }
}

/// <summary>
/// The batch-items endpoint: a queue of its own, consumed <see cref="SignWorkerOptions.BatchSize"/> items at a time
/// with at most <see cref="SignWorkerOptions.BatchesInFlight"/> such groups per worker, so a large batch never takes
/// the synchronous endpoint's consumers; its KMS calls take budget only while no synchronous request waits for it.
/// </summary>
public sealed class SignBatchItemConsumerDefinition : ConsumerDefinition<SignBatchItemConsumer>
{
    private readonly SignWorkerOptions _options;

    public SignBatchItemConsumerDefinition(IOptions<SignWorkerOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        EndpointName = SignQueues.BatchItems;
        ConcurrentMessageLimit = _options.BatchSize * _options.BatchesInFlight; // what the batch consumer may hold
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SignBatchItemConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = _options.BatchSize * _options.BatchesInFlight * 2;
        endpointConfigurator.ConfigureConsumeTopology = false;
        SignRequestedConsumerDefinition.ConfigureRetries(endpointConfigurator);
        consumerConfigurator.Options<BatchOptions>(batch => batch
            .SetMessageLimit(_options.BatchSize)
            .SetTimeLimit(TimeSpan.FromMilliseconds(_options.BatchTimeLimitMs))
            .SetConcurrencyLimit(_options.BatchesInFlight));
    }
}
