using EdgeSigner.Contracts.Signing;
using MassTransit;

namespace EdgeSigner.Ingress.Tenants;

/// <summary>
/// Admits a tenant's own bus request for a worker (<see cref="AdmitBusRequest"/>) with the guardrails of an HTTP
/// request (<see cref="BusTenantGate"/>): the sender and tenant, the declared payload size, a rate token.
/// </summary>
public sealed class AdmitBusRequestConsumer(BusTenantGate gate) : IConsumer<AdmitBusRequest>
{
    public async Task Consume(ConsumeContext<AdmitBusRequest> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Message;
        var refusal = await RefusalAsync(request, context.CancellationToken);
        if (refusal is null)
        {
            await context.RespondAsync(new BusRequestAdmitted { RequestId = request.RequestId });
            return;
        }

        await context.RespondAsync(new BusRequestRefused { RequestId = request.RequestId, ErrorType = refusal.ErrorType, Message = refusal.Message });
    }

    private async Task<BusRefusal?> RefusalAsync(AdmitBusRequest request, CancellationToken cancellationToken)
    {
        var (tenant, refusal) = await gate.AdmitSenderAsync(request.BrokerUser, request.TenantId, cancellationToken);
        if (tenant is null)
        {
            return refusal;
        }

        return BusTenantGate.CheckPayloadSize(tenant, request.PayloadSize) ?? await gate.TakeTokenAsync(tenant, cancellationToken);
    }
}

/// <summary>One queue for every ingress instance: any of them can admit a request.</summary>
public sealed class AdmitBusRequestConsumerDefinition : ConsumerDefinition<AdmitBusRequestConsumer>
{
    public AdmitBusRequestConsumerDefinition() => EndpointName = AdmitBusRequest.Address.AbsolutePath;
}
