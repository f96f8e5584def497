using EdgeSigner.Contracts.Keys;
using MassTransit;

namespace EdgeSigner.SignWorker.Keys;

/// <summary>An ingress asked (it just started): announce now rather than at the next tick.</summary>
public sealed class AnnounceSigningKeysConsumer(SigningKeysAnnouncer announcer) : IConsumer<AnnounceSigningKeys>
{
    public Task Consume(ConsumeContext<AnnounceSigningKeys> context) => announcer.AnnounceAsync(context.CancellationToken);
}

/// <summary>A temporary queue per worker instance: every worker hears every request.</summary>
public sealed class AnnounceSigningKeysConsumerDefinition : ConsumerDefinition<AnnounceSigningKeysConsumer>
{
    public AnnounceSigningKeysConsumerDefinition() => Endpoint(endpoint =>
    {
        endpoint.Name = "edge-signer-announce-keys";
        endpoint.InstanceId = Guid.NewGuid().ToString("N")[..12];
        endpoint.Temporary = true;
    });
}
