using System.Security.Cryptography;
using System.Threading.RateLimiting;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime;
using EdgeSigner.Testing;

namespace EdgeSigner.Benchmarks.Ceilings;

/// <summary>
/// What a team calling KMS by hand gets: the AWS SDK signing a digest against the same KMS-compatible server, with its
/// latency and quota, the client holding itself to the same budget (a token bucket, waiting for tokens as the
/// pipeline's budget makes its workers wait), no pipeline at all. Configured as the worker configures its client.
/// </summary>
public sealed class DirectKms : IDisposable
{
    private readonly AmazonKeyManagementServiceClient _client;
    private readonly TokenBucketRateLimiter? _budget;

    public DirectKms(FakeKmsServer kms, double? budgetPerSecond)
    {
        ArgumentNullException.ThrowIfNull(kms);
        _client = new AmazonKeyManagementServiceClient(new BasicAWSCredentials("test", "test"), new AmazonKeyManagementServiceConfig
        {
            ServiceURL = kms.Url,
            AuthenticationRegion = "eu-central-1",
            MaxErrorRetry = 0,
        });
        if (budgetPerSecond is { } rate)
        {
            // Tokens every 10 ms, a bucket of a tenth of a second's worth: about the pipeline's budget's block size.
            _budget = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = Math.Max(1, (int)(rate / 10)),
                TokensPerPeriod = Math.Max(1, (int)(rate / 100)),
                ReplenishmentPeriod = TimeSpan.FromMilliseconds(10),
                QueueLimit = int.MaxValue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                AutoReplenishment = true,
            });
        }
    }

    /// <summary>One signature of a fresh digest with the central key; true when KMS signed it.</summary>
    public async Task<bool> SignAsync(CancellationToken cancellationToken)
    {
        if (_budget is not null)
        {
            using var lease = await _budget.AcquireAsync(1, cancellationToken);
            if (!lease.IsAcquired)
            {
                return false;
            }
        }

        using var message = new MemoryStream(RandomNumberGenerator.GetBytes(32), writable: false);
        try
        {
            var response = await _client.SignAsync(new SignRequest
            {
                KeyId = Pipeline.CentralKmsKeyId,
                Message = message,
                MessageType = MessageType.DIGEST,
                SigningAlgorithm = SigningAlgorithmSpec.ECDSA_SHA_256,
            }, cancellationToken);
            return response.Signature.Length > 0;
        }
        catch (AmazonKeyManagementServiceException)
        {
            return false; // a throttle: counted as an error, as the pipeline's would be
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _budget?.Dispose();
    }
}
