using System.Net;
using Amazon.KeyManagementService;
using Amazon.Runtime;
using EdgeSigner.SignWorker.Signing;

namespace EdgeSigner.SignWorker.Tests;

public sealed class KmsFaultTests
{
    [Theory]
    [InlineData("ThrottlingException", HttpStatusCode.BadRequest, KmsFaultKind.Throttled, "kms_throttled")]
    [InlineData("KMSInternalException", HttpStatusCode.InternalServerError, KmsFaultKind.Transient, "kms_unavailable")]
    [InlineData("DependencyTimeoutException", HttpStatusCode.ServiceUnavailable, KmsFaultKind.Transient, "kms_unavailable")]
    [InlineData("SomethingNew", HttpStatusCode.BadGateway, KmsFaultKind.Transient, "kms_unavailable")]
    [InlineData("SomethingNew", HttpStatusCode.TooManyRequests, KmsFaultKind.Throttled, "kms_throttled")]
    [InlineData("DisabledException", HttpStatusCode.BadRequest, KmsFaultKind.Configuration, "kms_key_disabled")]
    [InlineData("NotFoundException", HttpStatusCode.BadRequest, KmsFaultKind.Configuration, "kms_key_not_found")]
    [InlineData("InvalidKeyUsageException", HttpStatusCode.BadRequest, KmsFaultKind.Configuration, "kms_invalid_key_usage")]
    [InlineData("KMSInvalidStateException", HttpStatusCode.BadRequest, KmsFaultKind.Configuration, "kms_invalid_key_state")]
    [InlineData("AccessDeniedException", HttpStatusCode.BadRequest, KmsFaultKind.Configuration, "kms_access_denied")]
    public void Sdk_error_codes_decide_the_fault_class(string code, HttpStatusCode status, KmsFaultKind kind, string errorType)
    {
        var exception = new AmazonKeyManagementServiceException("message text is never read", ErrorType.Sender, code, "request-id", status);

        var fault = KmsFault.Classify(exception, timedOut: false);

        Assert.Equal((kind, errorType), (fault.Kind, fault.ErrorType));
    }

    [Fact]
    public void A_timeout_and_a_connection_failure_are_classified_without_an_sdk_error_code()
    {
        Assert.Equal(KmsFaultKind.Timeout, KmsFault.Classify(new TaskCanceledException(), timedOut: true).Kind);
        Assert.Equal(KmsFaultKind.Transient, KmsFault.Classify(new HttpRequestException("connection refused"), timedOut: false).Kind);
    }

    [Fact]
    public void Backoff_is_exponential_capped_and_with_jitter_stays_in_the_upper_half()
    {
        var b = TimeSpan.FromMilliseconds(1000);
        var cap = TimeSpan.FromMilliseconds(10_000);

        Assert.Equal([1000, 2000, 4000, 8000, 10000, 10000], Enumerable.Range(1, 6).Select(r => Backoff.Delay(r, b, cap, jitter: false, 0.5).TotalMilliseconds));
        Assert.Equal(500, Backoff.Delay(1, b, cap, jitter: true, 0).TotalMilliseconds);
        Assert.Equal(1000, Backoff.Delay(1, b, cap, jitter: true, 1).TotalMilliseconds);
        Assert.Equal(1500, Backoff.Delay(2, b, cap, jitter: true, 0.5).TotalMilliseconds); // 2000 / 2 + 2000 / 2 × 0.5
        Assert.Throws<ArgumentOutOfRangeException>(() => Backoff.Delay(0, b, cap, true, 0.5));
    }
}
