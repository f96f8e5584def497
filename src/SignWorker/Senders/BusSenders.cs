using EdgeSigner.Client;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EdgeSigner.SignWorker.Senders;

/// <summary>Why a request may not be signed for its sender; <see cref="ErrorType"/> is one of <see cref="ErrorTypes"/>.</summary>
public sealed record SenderRefusal(string ErrorType, string Message);

/// <summary>
/// Who sent a sign request, as the broker proves it: RabbitMQ refuses a message whose <c>user_id</c> property is not
/// the user of the connection that published it. EdgeSigner's own services (<see cref="BusIdentityOptions.ServiceUsers"/>
/// and this worker's user) set it on everything they send, and their requests were admitted by an ingress already. A
/// request from any other user is a tenant's own service: the ingress, which owns tenants, their broker users and
/// their rate buckets, admits it or says why not (<see cref="AdmitBusRequest"/>). A request without a validated user,
/// or whose user may not sign as the tenant it names, is refused as <c>sender_not_allowed</c> and recorded in the
/// audit trail as a security event. On the in-memory bus of embedded mode only this process's own services can send.
/// </summary>
public sealed class BusSenders
{
    private static readonly SenderRefusal NoSender = new(ErrorTypes.SenderNotAllowed, TenantBusNames.NoSenderDetail);

    private readonly HashSet<string> _serviceUsers;
    private readonly IRequestClient<AdmitBusRequest> _admission;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ILogger<BusSenders> _logger;

    public BusSenders(IOptions<BusIdentityOptions> options, IConfiguration configuration, IRequestClient<AdmitBusRequest> admission, TimeProvider time,
        ILogger<BusSenders> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _serviceUsers = new HashSet<string>(options.Value.ServiceUsers, StringComparer.Ordinal);
        if (DeploymentMode.RabbitMqUser(configuration) is { } own)
        {
            _serviceUsers.Add(own);
        }

        _admission = admission;
        _timeout = TimeSpan.FromMilliseconds(options.Value.AdmissionTimeoutMs);
        _time = time;
        _logger = logger;
    }

    /// <summary>Sent by one of EdgeSigner's own services (or over the in-memory bus, where nothing else can send)?</summary>
    public bool IsService(ConsumeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.ReceiveContext.TryGetPayload<RabbitMqBasicConsumeContext>(out _))
        {
            return true;
        }

        return BrokerIdentity.SenderOf(context) is { } user && _serviceUsers.Contains(user);
    }

    /// <summary>Null when the request may be signed for its sender; otherwise why not (already audited when it is a security matter).</summary>
    public async Task<SenderRefusal?> CheckAsync(ConsumeContext<SignRequested> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (IsService(context))
        {
            return null;
        }

        var request = context.Message;
        var user = BrokerIdentity.SenderOf(context);
        var refusal = user is null ? NoSender : await AdmitAsync(context, user);
        if (refusal is null)
        {
            return null;
        }

        if (refusal.ErrorType == ErrorTypes.SenderNotAllowed)
        {
            _logger.LogWarning("Refused bus request {RequestId}: broker user {BrokerUser} may not sign as tenant {TenantId}",
                request.RequestId, user ?? "(none)", request.TenantId);
            await context.Publish(BusSenderRefusal.Event(NewId.NextGuid(), _time.GetUtcNow(), user, request.TenantId, request.RequestId));
        }

        return refusal;
    }

    /// <summary>Asks the ingress; null means admitted. No answer in time is a refusal to try again, not a security event.</summary>
    private async Task<SenderRefusal?> AdmitAsync(ConsumeContext<SignRequested> context, string user)
    {
        var request = context.Message;
        var left = request.Deadline - _time.GetUtcNow();
        var timeout = left < _timeout ? left : _timeout;
        if (timeout <= TimeSpan.Zero)
        {
            return new SenderRefusal(ErrorTypes.SigningTimeout, "The request's deadline passed before a worker took it.");
        }

        try
        {
            var answer = await _admission.GetResponse<BusRequestAdmitted, BusRequestRefused>(new AdmitBusRequest
            {
                RequestId = request.RequestId,
                TenantId = request.TenantId,
                BrokerUser = user,
                PayloadSize = request.PayloadSize,
            }, context.CancellationToken, RequestTimeout.After(ms: (int)Math.Max(1, timeout.TotalMilliseconds)));
            return answer.Is(out Response<BusRequestRefused>? refused)
                ? new SenderRefusal(refused.Message.ErrorType, refused.Message.Message)
                : null;
        }
        catch (RequestTimeoutException)
        {
            return new SenderRefusal(ErrorTypes.ServiceUnavailable, "No ingress answered in time to admit this bus request; try again.");
        }
    }
}
