using System.Security.Cryptography;
using System.Net;
using Amazon.KeyManagementService;
using Amazon.Runtime;
using EdgeSigner.SignWorker.Keys;

namespace EdgeSigner.SignWorker.Tests.Signing;

/// <summary>
/// A signer backend (the worker's true edge) that answers each call from a script: sign with its real P-256 key,
/// or fail as KMS would (the AWS SDK's own exception types and error codes). Once the script is spent it signs.
/// </summary>
public sealed class ScriptedBackend(string keyId, string region, ECDsa key, params ScriptedBackend.Answer[] script) : ISignerBackend
{
    public enum Answer
    {
        Sign,
        Unavailable,
        Throttled,
        Disabled,
    }

    private int _calls;

    public string KeyId { get; } = keyId;
    public string Region { get; } = region;

    /// <summary>How many times it was asked to sign.</summary>
    public int Calls => Volatile.Read(ref _calls);

    public Task<byte[]> SignDigestAsync(byte[] digest, CancellationToken cancellationToken)
    {
        var call = Interlocked.Increment(ref _calls) - 1;
        var answer = call < script.Length ? script[call] : Answer.Sign;
        return answer switch
        {
            Answer.Sign => Task.FromResult(key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence)),
            Answer.Unavailable => throw Kms("KMSInternalException", HttpStatusCode.InternalServerError),
            Answer.Throttled => throw Kms("ThrottlingException", HttpStatusCode.BadRequest),
            _ => throw Kms("DisabledException", HttpStatusCode.BadRequest),
        };
    }

    public Task<byte[]> GetPublicKeyAsync(CancellationToken cancellationToken) => Task.FromResult(key.ExportSubjectPublicKeyInfo());

    private static AmazonKeyManagementServiceException Kms(string code, HttpStatusCode status) =>
        new("scripted failure", ErrorType.Sender, code, "request-id", status);
}
