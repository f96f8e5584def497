using EdgeSigner.Contracts.Signing;
using EdgeSigner.Guardrails.Flags;
using EdgeSigner.Ingress.Data;
using EdgeSigner.Ingress.Flags;
using EdgeSigner.Ingress.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EdgeSigner.Ingress.Tenants;

/// <summary>Why a tenant's bus message is refused: <see cref="ErrorType"/> is one of <see cref="ErrorTypes"/>.</summary>
public sealed record BusRefusal(string ErrorType, string Message);

/// <summary>A tenant admitted past the sender checks, with what the rest of the checks need.</summary>
public sealed record BusTenant(string TenantId, int MaxPayloadSize, double RatePerSecond, int Burst);

/// <summary>
/// The guardrails of an HTTP request, for a tenant's own bus messages (one request, <see cref="AdmitBusRequestConsumer"/>,
/// or a batch, <see cref="Batches.SubmitBusBatchConsumer"/>), in the HTTP order: the sender is mapped to the tenant and
/// the tenant exists (else <c>sender_not_allowed</c>: a forged tenant learns nothing about which tenants exist), it is
/// enabled, the route is not removed (break-glass level 3); then, once the caller checked the payload sizes against
/// <see cref="BusTenant.MaxPayloadSize"/>, one token of the tenant's one rate bucket, which its HTTP calls draw from too.
/// </summary>
public sealed class BusTenantGate(IngressDbContext db, FlagsState flags, TenantRateLimiter limiter, IOptions<RateLimitOptions> limits)
{
    public async Task<(BusTenant? Tenant, BusRefusal? Refusal)> AdmitSenderAsync(string brokerUser, string tenantId, CancellationToken cancellationToken)
    {
        var tenant = await (from user in db.BrokerUsers.AsNoTracking()
                            join t in db.Tenants.AsNoTracking() on user.TenantId equals t.TenantId
                            where user.BrokerUser == brokerUser && user.TenantId == tenantId
                            select new { t.Disabled, t.RatePerSecond, t.Burst }).FirstOrDefaultAsync(cancellationToken);
        if (tenant is null)
        {
            return (null, new(ErrorTypes.SenderNotAllowed, $"Broker user '{brokerUser}' may not sign as tenant '{tenantId}'."));
        }

        if (tenant.Disabled)
        {
            return (null, new(ErrorTypes.TenantDisabled, $"Tenant '{tenantId}' is disabled."));
        }

        var snapshot = flags.Current;
        if (snapshot.RouteRemoved)
        {
            return (null, new(ErrorTypes.ServiceUnavailable, RouteGuard.RemovedMessage));
        }

        var admitted = new BusTenant(tenantId, snapshot.EffectiveFor(tenantId).MaxPayloadSize,
            tenant.RatePerSecond ?? limits.Value.DefaultRatePerSecond, tenant.Burst ?? limits.Value.DefaultBurst);
        return (admitted, null);
    }

    /// <summary>The declared size of a payload checked against the tenant's limit; null when it passes.</summary>
    public static BusRefusal? CheckPayloadSize(BusTenant tenant, int payloadSize, string what = "The payload")
    {
        ArgumentNullException.ThrowIfNull(tenant);
        if (payloadSize < 0)
        {
            return new(ErrorTypes.InvalidRequest, $"{what}: payload_size must not be negative.");
        }

        return payloadSize > tenant.MaxPayloadSize
            ? new(ErrorTypes.PayloadTooLarge, $"{what} is {payloadSize} bytes; the limit is {tenant.MaxPayloadSize}.")
            : null;
    }

    public async Task<BusRefusal?> TakeTokenAsync(BusTenant tenant, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        var decision = await limiter.TakeAsync(tenant.TenantId, tenant.RatePerSecond, tenant.Burst, cancellationToken);
        return decision.Allowed ? null : new(ErrorTypes.RateLimited, RateLimitFilter.OverLimitMessage(tenant.TenantId, tenant.RatePerSecond, tenant.Burst));
    }
}
