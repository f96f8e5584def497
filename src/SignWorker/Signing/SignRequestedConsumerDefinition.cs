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

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SignRequestedConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = _options.PrefetchCount;

        // A backend error is retried twice, quickly, in memory; after that the request faults (the caller gets a
        // 503 and the message goes to the error queue with its reason).
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Intervals(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(250));
            retry.Ignore<ArgumentException>();
            retry.Ignore<FormatException>();
        });
    }
}
