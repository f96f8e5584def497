using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;

namespace EdgeSigner.SignWorker.Signing;

public enum KmsFaultKind
{
    /// <summary>KMS refused for rate (<c>ThrottlingException</c>, HTTP 400; or HTTP 429): the breaker opens at once.</summary>
    Throttled,

    /// <summary>KMS or the path to it failed in a way that may pass: retried with backoff.</summary>
    Transient,

    /// <summary>The call took longer than its timeout: cancelled, no retry.</summary>
    Timeout,

    /// <summary>The key cannot sign (disabled, missing, wrong usage or state, access denied): no retry.</summary>
    Configuration,
}

/// <summary>A classified backend failure with the stable <c>error_type</c> it is reported under.</summary>
public sealed record KmsFault(KmsFaultKind Kind, string ErrorType, string Detail)
{
    /// <summary>
    /// Classifies a failure from the AWS SDK's error code and HTTP status (never from message text). Connection
    /// failures are transient; anything unrecognised from KMS with a 4xx status is treated as configuration.
    /// </summary>
    public static KmsFault Classify(Exception exception, bool timedOut)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (timedOut)
        {
            return new(KmsFaultKind.Timeout, "kms_timeout", "the call exceeded its timeout");
        }

        if (exception is AmazonServiceException service)
        {
            var code = service.ErrorCode ?? string.Empty;
            var detail = $"{code} (HTTP {(int)service.StatusCode})";
            return code switch
            {
                "ThrottlingException" or "TooManyRequestsException" => new(KmsFaultKind.Throttled, "kms_throttled", detail),
                "KMSInternalException" or "DependencyTimeoutException" or "KeyUnavailableException" or "ServiceUnavailableException" or "InternalFailure"
                    => new(KmsFaultKind.Transient, "kms_unavailable", detail),
                "DisabledException" => new(KmsFaultKind.Configuration, "kms_key_disabled", detail),
                "NotFoundException" => new(KmsFaultKind.Configuration, "kms_key_not_found", detail),
                "InvalidKeyUsageException" => new(KmsFaultKind.Configuration, "kms_invalid_key_usage", detail),
                "KMSInvalidStateException" => new(KmsFaultKind.Configuration, "kms_invalid_key_state", detail),
                "AccessDeniedException" or "UnrecognizedClientException" or "InvalidSignatureException" or "ExpiredTokenException"
                    => new(KmsFaultKind.Configuration, "kms_access_denied", detail),
                _ when service.StatusCode == HttpStatusCode.TooManyRequests => new(KmsFaultKind.Throttled, "kms_throttled", detail),
                _ when (int)service.StatusCode >= 500 => new(KmsFaultKind.Transient, "kms_unavailable", detail),
                _ => new(KmsFaultKind.Configuration, "kms_request_rejected", detail),
            };
        }

        return exception switch
        {
            HttpRequestException or SocketException or IOException or AmazonClientException =>
                new(KmsFaultKind.Transient, "kms_unreachable", exception.GetType().Name),
            _ => new(KmsFaultKind.Transient, "signer_error", exception.GetType().Name),
        };
    }
}

/// <summary>The seed's exponential backoff with jitter, as a pure function.</summary>
public static class Backoff
{
    /// <summary>
    /// The pause before retry <paramref name="retry"/> (1, 2, 3...): base × 2^(retry-1), capped, and with jitter a
    /// uniform draw from its upper half ("equal jitter"), so pauses are spread out yet still grow retry by retry.
    /// </summary>
    public static TimeSpan Delay(int retry, TimeSpan baseDelay, TimeSpan maxDelay, bool jitter, double random01)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        var exponential = Math.Min(maxDelay.TotalMilliseconds, baseDelay.TotalMilliseconds * Math.Pow(2, retry - 1));
        return TimeSpan.FromMilliseconds(jitter ? (exponential / 2) + (exponential / 2 * random01) : exponential);
    }
}
