using System.Security.Cryptography;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Contracts.Tbs;
using MassTransit;

namespace EdgeSigner.Client;

/// <summary>A signature, verified against the key EdgeSigner publishes for its kid.</summary>
/// <param name="Result">The format's result: the compact JWS, the base64 of the COSE_Sign1, or for <c>raw</c> the
/// base64 of the 64-byte r||s signature (as <c>/v1/sign</c> answers).</param>
public sealed record SignedResult(Guid RequestId, string TenantId, string Kid, string Format, string SigningMode, byte[] Signature, string Result);

/// <summary>
/// Signs as one tenant over the bus: builds the to-be-signed bytes exactly as the ingress does, sends their digest
/// (<see cref="SignRequested"/>) to the sign queue with MassTransit's request client, and verifies the signature
/// against the published keys before returning it. A refusal is an <see cref="EdgeSignerException"/> with the
/// contract's error type. The bus must connect as a broker user mapped to the tenant and carry its identity
/// (<see cref="BrokerIdentity.UseBrokerIdentity"/>).
/// </summary>
public sealed class EdgeSignerClient(IBus bus, PublishedKeys keys, string tenantId, string kid)
{
    /// <summary>How long a request may take unless the caller says otherwise: the HTTP API's default deadline.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Signs <paramref name="payload"/> in <paramref name="format"/> (<c>raw</c>, <c>jws</c>, <c>cose</c>). Sending again
    /// with the same <paramref name="requestId"/> returns the recorded result instead of signing twice.
    /// </summary>
    public async Task<SignedResult> SignAsync(ReadOnlyMemory<byte> payload, string format = SignatureFormats.Jws, bool detached = false,
        Guid? requestId = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var tbs = ToBeSigned.Build(format, kid, payload.Span, detached);
        var id = requestId ?? NewId.NextGuid();
        var wait = timeout ?? DefaultTimeout;
        var now = DateTimeOffset.UtcNow;
        var client = bus.CreateRequestClient<SignRequested>(SignQueues.SignRequestedAddress, RequestTimeout.After(ms: (int)wait.TotalMilliseconds));
        Response<SignCompleted, SignRejected> response;
        try
        {
            response = await client.GetResponse<SignCompleted, SignRejected>(new SignRequested
            {
                RequestId = id,
                TenantId = tenantId,
                Kid = tbs.Kid,
                Format = tbs.Format,
                TbsDigest = tbs.Digest,
                PayloadSize = payload.Length,
                Deadline = now + wait,
                ReceivedAt = now,
            }, cancellationToken);
        }
        catch (RequestTimeoutException ex)
        {
            throw new EdgeSignerException(EdgeSignerException.NoAnswer, $"No answer within {wait.TotalSeconds} s.", id, ex);
        }

        if (response.Is(out Response<SignRejected>? rejected))
        {
            throw new EdgeSignerException(rejected.Message.ErrorType, rejected.Message.Message, id);
        }

        response.Is(out Response<SignCompleted>? completed);
        var signed = completed!.Message;
        var key = await keys.FindAsync(signed.Kid, cancellationToken);
        if (key is null || signed.TbsHash != tbs.DigestHex || !key.VerifyData(tbs.Bytes, signed.Signature, HashAlgorithmName.SHA256))
        {
            throw new EdgeSignerException(EdgeSignerException.SignatureInvalid,
                key is null ? $"No published key '{signed.Kid}'." : "The signature does not verify against the published key.", id);
        }

        return new SignedResult(id, signed.TenantId, signed.Kid, tbs.Format, signed.SigningMode, signed.Signature,
            tbs.Assemble(signed.Signature) ?? Convert.ToBase64String(signed.Signature));
    }
}
