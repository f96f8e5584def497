using EdgeSigner.Contracts.Signing;
using EdgeSigner.Guardrails.Flags;
using EdgeSigner.Ingress.Data;
using EdgeSigner.Ingress.Flags;
using EdgeSigner.Ingress.RateLimiting;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EdgeSigner.Ingress.Tenants;

/// <summary>
/// Admits a tenant's own bus request for a worker (<see cref="AdmitBusRequest"/>) with the guardrails of an HTTP
/// request, in the same order: the sender is mapped to the tenant and the tenant exists (else
/// <c>sender_not_allowed</c>: a forged tenant learns nothing about which tenants exist), it is enabled, the route is
/// not removed (break-glass level 3), the declared payload size is within the tenant's limit, and the tenant's one
/// shared rate bucket, which its HTTP calls draw from too, has a token.
/// </summary>
public sealed class AdmitBusRequestConsumer(IngressDbContext db, FlagsState flags, TenantRateLimiter limiter, IOptions<RateLimitOptions> limits)
    : IConsumer<AdmitBusRequest>
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

        await context.RespondAsync(new BusRequestRefused { RequestId = request.RequestId, ErrorType = refusal.Value.ErrorType, Message = refusal.Value.Message });
    }

    private async Task<(string ErrorType, string Message)?> RefusalAsync(AdmitBusRequest request, CancellationToken cancellationToken)
    {
        var tenant = await (from user in db.BrokerUsers.AsNoTracking()
                            join t in db.Tenants.AsNoTracking() on user.TenantId equals t.TenantId
                            where user.BrokerUser == request.BrokerUser && user.TenantId == request.TenantId
                            select new { t.Disabled, t.RatePerSecond, t.Burst }).FirstOrDefaultAsync(cancellationToken);
        if (tenant is null)
        {
            return (ErrorTypes.SenderNotAllowed, $"Broker user '{request.BrokerUser}' may not sign as tenant '{request.TenantId}'.");
        }

        if (tenant.Disabled)
        {
            return (ErrorTypes.TenantDisabled, $"Tenant '{request.TenantId}' is disabled.");
        }

        var snapshot = flags.Current;
        if (snapshot.RouteRemoved)
        {
            return (ErrorTypes.ServiceUnavailable, RouteGuard.RemovedMessage);
        }

        var maxPayload = snapshot.EffectiveFor(request.TenantId).MaxPayloadSize;
        if (request.PayloadSize < 0)
        {
            return (ErrorTypes.InvalidRequest, "payload_size must not be negative.");
        }

        if (request.PayloadSize > maxPayload)
        {
            return (ErrorTypes.PayloadTooLarge, $"The payload is {request.PayloadSize} bytes; the limit is {maxPayload}.");
        }

        var rate = tenant.RatePerSecond ?? limits.Value.DefaultRatePerSecond;
        var burst = tenant.Burst ?? limits.Value.DefaultBurst;
        var decision = await limiter.TakeAsync(request.TenantId, rate, burst, cancellationToken);
        return decision.Allowed ? null : (ErrorTypes.RateLimited, RateLimitFilter.OverLimitMessage(request.TenantId, rate, burst));
    }
}

/// <summary>One queue for every ingress instance: any of them can admit a request.</summary>
public sealed class AdmitBusRequestConsumerDefinition : ConsumerDefinition<AdmitBusRequestConsumer>
{
    public AdmitBusRequestConsumerDefinition() => EndpointName = AdmitBusRequest.Address.AbsolutePath;
}
