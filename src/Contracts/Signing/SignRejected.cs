namespace EdgeSigner.Contracts.Signing;

/// <summary>The answer to a <see cref="SignRequested"/> that could not be signed, with a stable error type.</summary>
public sealed record SignRejected
{
    public required Guid RequestId { get; init; }

    /// <summary>A stable snake_case code, e.g. <c>signing_timeout</c>, <c>invalid_request</c>, <c>signing_failed</c>.</summary>
    public required string ErrorType { get; init; }

    /// <summary>A human-readable reason; never contains key material or payload bytes.</summary>
    public required string Message { get; init; }

    /// <summary>The worker's <c>EdgeSignerLog</c> of the request (null on a replay), for the ingress's log line.</summary>
    public Events.EdgeSignerLog? Log { get; init; }
}
