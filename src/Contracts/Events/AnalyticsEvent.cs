namespace EdgeSigner.Contracts.Events;

/// <summary>
/// The seed's <c>AnalyticsEvent</c>, published by the worker for every attempt and outcome, for product analytics
/// consumers (the audit store keeps the fuller <see cref="SignAttempted"/>, <see cref="SignSucceeded"/> and
/// <see cref="SignFailed"/>). Carries no payload, key or signature.
/// </summary>
public sealed record AnalyticsEvent
{
    public const string Attempt = "edge_sign_attempt";
    public const string Success = "edge_sign_success";
    public const string Failure = "edge_sign_failure";

    /// <summary><c>edge_sign_attempt</c>, <c>edge_sign_success</c> or <c>edge_sign_failure</c>.</summary>
    public required string Event { get; init; }

    public required AnalyticsProperties Properties { get; init; }

    public static AnalyticsEvent From(string name, EdgeSignerLog log)
    {
        ArgumentNullException.ThrowIfNull(log);
        return new AnalyticsEvent
        {
            Event = name,
            Properties = new AnalyticsProperties
            {
                RequestId = log.RequestId,
                TenantId = log.TenantId,
                SigningMode = log.SigningMode,
                LatencyMs = log.TTotalMs,
                PayloadSize = log.PayloadSize,
                Region = log.Region,
                ErrorType = log.ErrorType,
            },
        };
    }
}

public sealed record AnalyticsProperties
{
    /// <summary>Not in the seed; added so analytics can be joined with the log lines and the audit store.</summary>
    public required Guid RequestId { get; init; }
    public required string TenantId { get; init; }

    /// <summary><c>edge-tbs+remote-es256</c> or <c>central-fallback</c>.</summary>
    public required string SigningMode { get; init; }
    public required double LatencyMs { get; init; }
    public required int PayloadSize { get; init; }
    public required string Region { get; init; }
    public string? ErrorType { get; init; }
}
