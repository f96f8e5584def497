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

/// <summary>Why a bus request may not be signed; <see cref="ErrorType"/> is one of <see cref="ErrorTypes"/>.</summary>
public sealed record BusRequestRefused
{
    public required Guid RequestId { get; init; }
    public required string ErrorType { get; init; }
    public required string Message { get; init; }
}
