using EdgeSigner.Contracts.Flags;
using MassTransit;

namespace EdgeSigner.Guardrails.Flags;

/// <summary>Applies every <see cref="FlagsChanged"/> to this process's <see cref="FlagsState"/>.</summary>
public sealed class FlagsChangedConsumer(FlagsState state) : IConsumer<FlagsChanged>
{
    public Task Consume(ConsumeContext<FlagsChanged> context)
    {
        state.TryApply(context.Message.Snapshot);
        return Task.CompletedTask;
    }
}

/// <summary>
/// A temporary queue of its own for each running instance (auto-deleted when it stops), so every instance of every
/// service receives every change: fan-out, not competing consumers.
/// </summary>
public sealed class FlagsChangedConsumerDefinition : ConsumerDefinition<FlagsChangedConsumer>
{
    public FlagsChangedConsumerDefinition()
    {
        Endpoint(endpoint =>
        {
            endpoint.Name = "edge-signer-flags-changed";
            endpoint.InstanceId = Guid.NewGuid().ToString("N")[..12];
            endpoint.Temporary = true;
        });
    }
}
