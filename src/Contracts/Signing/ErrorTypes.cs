namespace EdgeSigner.Contracts.Signing;

/// <summary>The stable <c>error_type</c> codes of the contract, shared by HTTP problems and bus messages.</summary>
public static class ErrorTypes
{
    public const string InvalidRequest = "invalid_request";
    public const string Unauthenticated = "unauthenticated";
    public const string TenantDisabled = "tenant_disabled";

    /// <summary>
    /// A bus request whose sender may not sign as the tenant it names: no validated broker user (<c>user_id</c>), or a
    /// broker user that is not mapped to that tenant (or the tenant does not exist). Audited as a security event.
    /// </summary>
    public const string SenderNotAllowed = "sender_not_allowed";
    public const string NotFound = "not_found";
    public const string IdempotencyConflict = "idempotency_conflict";
    public const string PayloadTooLarge = "payload_too_large";
    public const string RateLimited = "rate_limited";

    /// <summary>Too many failed authentications from one address: it must wait (Retry-After) before trying again.</summary>
    public const string AuthenticationThrottled = "authentication_throttled";
    public const string ServiceUnavailable = "service_unavailable";
    public const string SigningTimeout = "signing_timeout";

    /// <summary>Both the chosen backend and any fallback failed; the message names the causes.</summary>
    public const string SigningFailed = "signing_failed";

    /// <summary>The request names a key this service does not hold.</summary>
    public const string UnknownKey = "unknown_key";

    public const string InternalError = "internal_error";
}
