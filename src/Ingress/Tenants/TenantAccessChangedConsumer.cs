using EdgeSigner.Contracts.Admin;
using MassTransit;

namespace EdgeSigner.Ingress.Tenants;

/// <summary>Drops this instance's cached keys of a tenant whose access an operator changed on any instance.</summary>
public sealed class TenantAccessChangedConsumer(ApiKeyCache credentials) : IConsumer<TenantAccessChanged>
{
    public Task Consume(ConsumeContext<TenantAccessChanged> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        credentials.Evict(context.Message.TenantId);
        return Task.CompletedTask;
    }
}

/// <summary>A temporary queue per ingress instance (auto-deleted when it stops): every instance receives every change.</summary>
public sealed class TenantAccessChangedConsumerDefinition : ConsumerDefinition<TenantAccessChangedConsumer>
{
    public TenantAccessChangedConsumerDefinition()
    {
        Endpoint(endpoint =>
        {
            endpoint.Name = "edge-signer-tenant-access";
            endpoint.InstanceId = Guid.NewGuid().ToString("N")[..12];
            endpoint.Temporary = true;
        });
    }
}
