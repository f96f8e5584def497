namespace EdgeSigner.Contracts.Signing;

/// <summary>
/// Asked by a worker of the ingress for a <see cref="SignRequested"/> that a tenant's own service sent on the bus (its
/// sender is not one of EdgeSigner's service users): may this broker user sign as this tenant now? The ingress owns
/// tenants, their broker users and their rate buckets, so it applies the same guardrails as to an HTTP request: the
/// sender is mapped to the tenant, the tenant exists and is enabled, the route is not removed, the declared payload
/// size is within the limit, and the tenant's shared bucket has a token. Answered with
/// <see cref="BusRequestAdmitted"/> or <see cref="BusRequestRefused"/>.
/// </summary>
public sealed record AdmitBusRequest
{
    public static Uri Address { get; } = new("queue:edge-signer-bus-admission");

    public required Guid RequestId { get; init; }
    public required string TenantId { get; init; }

    /// <summary>The RabbitMQ user that sent the request, as the broker validated it (the message's <c>user_id</c>).</summary>
    public required string BrokerUser { get; init; }

    public required int PayloadSize { get; init; }
}

public sealed record BusRequestAdmitted
{
    public required Guid RequestId { get; init; }
}

/// <summary>
/// Why a bus request (or, answering a <see cref="SubmitBusBatch"/>, a batch: then <see cref="RequestId"/> is the batch
/// id) may not be signed; <see cref="ErrorType"/> is one of <see cref="ErrorTypes"/>.
/// </summary>
public sealed record BusRequestRefused
{
    public required Guid RequestId { get; init; }
    public required string ErrorType { get; init; }
    public required string Message { get; init; }
}

/// <summary>The audit-trail event of a bus message refused for its sender: recorded by whichever service refused it.</summary>
public static class BusSenderRefusal
{
    public const string Action = "security.bus_sender_refused";

    public static Admin.AdminActionRecorded Event(Guid eventId, DateTimeOffset at, string? brokerUser, string tenantId, Guid requestId) => new()
    {
        EventId = eventId,
        OccurredAt = at,
        Actor = brokerUser is null ? "anonymous" : $"broker:{brokerUser}",
        SourceAddress = string.Empty,
        Action = Action,
        Target = tenantId.Length <= 200 ? tenantId : tenantId[..200],
        Outcome = "denied",
        StatusCode = 403,
        After = System.Text.Json.JsonSerializer.Serialize(new { request_id = requestId, broker_user = brokerUser }),
    };
}
