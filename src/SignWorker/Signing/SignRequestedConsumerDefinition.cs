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

        // Backend failures are handled inside the consumer (FallbackSigner: breaker, deadline-aware retries,
        // fallback), so they never reach this policy. What does (the bus itself failing to publish or answer) is
        // retried twice, then the message goes to the error queue with its reason.
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Intervals(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(500));
            retry.Ignore<ArgumentException>();
            retry.Ignore<FormatException>();
        });
    }
}
