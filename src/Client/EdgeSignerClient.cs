using System.Security.Cryptography;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Contracts.Tbs;
using MassTransit;

namespace EdgeSigner.Client;

/// <summary>A signature, verified against the key EdgeSigner publishes for its kid.</summary>
/// <param name="Result">The format's result: the compact JWS, the base64 of the COSE_Sign1, or for <c>raw</c> the
/// base64 of the 64-byte r||s signature (as <c>/v1/sign</c> answers).</param>
public sealed record SignedResult(Guid RequestId, string TenantId, string Kid, string Format, string SigningMode, byte[] Signature, string Result);

/// <summary>One item of a batch: the tenant's id for it (unique in the batch), its payload and format.</summary>
public sealed record BatchItem(string Id, ReadOnlyMemory<byte> Payload, string Format = SignatureFormats.Jws, bool Detached = false);

/// <summary>
/// Signs as one tenant over the bus: builds the to-be-signed bytes exactly as the ingress does, sends their digest
/// (<see cref="SignRequested"/>) to the user's sign exchange (<see cref="TenantBusNames.SignAddress"/>) with
/// MassTransit's request client, and verifies the signature against the published keys before returning it; or
/// submits a batch of them (<see cref="SubmitBatchAsync"/>) whose results arrive on a queue of the user's own. A
/// refusal is an <see cref="EdgeSignerException"/> with the contract's error type. The bus must connect as
/// <paramref name="brokerUser"/>, a broker user mapped to the tenant, and carry its identity
/// (<see cref="BrokerIdentity.UseBrokerIdentity"/>).
/// </summary>
public sealed class EdgeSignerClient(IBus bus, PublishedKeys keys, string brokerUser, string tenantId, string kid)
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
        var client = bus.CreateRequestClient<SignRequested>(TenantBusNames.SignAddress(brokerUser), RequestTimeout.After(ms: (int)wait.TotalMilliseconds));
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
        return await VerifiedAsync(id, signed.Kid, signed.TbsHash, signed.Signature, signed.SigningMode, tbs, cancellationToken);
    }

    /// <summary>
    /// Submits <paramref name="items"/> as one batch and returns once EdgeSigner accepted it (every item checked, the
    /// batch durably queued). Each item's result (<see cref="BatchItemEnded"/>, to check with <see cref="VerifyAsync"/>)
    /// and then <see cref="BatchCompleted"/> arrive on <paramref name="resultsQueue"/>, by default
    /// <see cref="TenantBusNames.ResultsQueue"/> (<see cref="BatchResults.ConnectBatchResultsAsync"/> receives them), and wait
    /// there while the service is down. Submitting again with the same <paramref name="batchId"/> (after a timeout, say)
    /// signs nothing twice.
    /// </summary>
    public async Task<BusBatchAccepted> SubmitBatchAsync(IReadOnlyList<BatchItem> items, Guid? batchId = null, string? resultsQueue = null,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        var id = batchId ?? NewId.NextGuid();
        var wait = timeout ?? DefaultTimeout;
        var client = bus.CreateRequestClient<SubmitBusBatch>(TenantBusNames.BatchesAddress(brokerUser), RequestTimeout.After(ms: (int)wait.TotalMilliseconds));
        var submit = new SubmitBusBatch
        {
            BatchId = id,
            TenantId = tenantId,
            ResultsQueue = resultsQueue ?? TenantBusNames.ResultsQueue(brokerUser),
            Items = items.Select(item =>
            {
                var tbs = ToBeSigned.Build(item.Format, kid, item.Payload.Span, item.Detached);
                // The item's request id is derived from the batch's and the item's: a resent batch names the same requests.
                var requestId = new Guid(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{id:N}/{item.Id}")).AsSpan(0, 16));
                return new BusBatchItem { RequestId = requestId, ItemId = item.Id, Kid = tbs.Kid, Format = tbs.Format, TbsDigest = tbs.Digest, PayloadSize = item.Payload.Length };
            }).ToList(),
        };
        Response<BusBatchAccepted, BusRequestRefused> response;
        try
        {
            response = await client.GetResponse<BusBatchAccepted, BusRequestRefused>(submit, cancellationToken);
        }
        catch (RequestTimeoutException ex)
        {
            throw new EdgeSignerException(EdgeSignerException.NoAnswer, $"No answer within {wait.TotalSeconds} s; submit again with the same batch id.", id, ex);
        }

        if (response.Is(out Response<BusRequestRefused>? refused))
        {
            throw new EdgeSignerException(refused.Message.ErrorType, refused.Message.Message, id);
        }

        response.Is(out Response<BusBatchAccepted>? accepted);
        return accepted!.Message;
    }

    /// <summary>
    /// A batch item's result checked against its payload and the published key, as <see cref="SignAsync"/> returns it;
    /// a failed item is an <see cref="EdgeSignerException"/> with its error type.
    /// </summary>
    public async Task<SignedResult> VerifyAsync(BatchItemEnded result, ReadOnlyMemory<byte> payload, bool detached = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Signature is not { } signature)
        {
            throw new EdgeSignerException(result.ErrorType ?? "internal_error", $"Item '{result.ItemId}' of batch {result.BatchId} was not signed.", result.RequestId);
        }

        var tbs = ToBeSigned.Build(result.Format, result.Kid, payload.Span, detached);
        return await VerifiedAsync(result.RequestId, result.Kid, result.TbsHash, signature, result.SigningMode ?? string.Empty, tbs, cancellationToken);
    }

    private async Task<SignedResult> VerifiedAsync(Guid requestId, string signedKid, string tbsHash, byte[] signature, string signingMode, ToBeSigned tbs,
        CancellationToken cancellationToken)
    {
        var key = await keys.FindAsync(signedKid, cancellationToken);
        if (key is null || tbsHash != tbs.DigestHex || !key.VerifyData(tbs.Bytes, signature, HashAlgorithmName.SHA256))
        {
            throw new EdgeSignerException(EdgeSignerException.SignatureInvalid,
                key is null ? $"No published key '{signedKid}'." : "The signature does not verify against the published key and payload.", requestId);
        }

        return new SignedResult(requestId, tenantId, signedKid, tbs.Format, signingMode, signature, tbs.Assemble(signature) ?? Convert.ToBase64String(signature));
    }
}
