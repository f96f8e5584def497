using System.Diagnostics;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Contracts.Tbs;
using EdgeSigner.SignWorker.Keys;
using EdgeSigner.SignWorker.Routing;
using EdgeSigner.ServiceDefaults.Flags;
using MassTransit;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>
/// Signs the TBS digest of a <see cref="SignRequested"/> with the backend its path names, answers the requester (if
/// any) and publishes the attempt and its outcome with the seed's <c>EdgeSignerLog</c> fields.
/// </summary>
public sealed class SignRequestedConsumer(
    SigningKeyRegistry keys,
    FlagsState flags,
    TimeProvider time,
    ILogger<SignRequestedConsumer> logger) : IConsumer<SignRequested>
{
    public async Task Consume(ConsumeContext<SignRequested> context)
    {
        var request = context.Message;
        var cpuAtStart = Environment.CpuUsage.TotalTime;
        var tbsHash = request.TbsDigest is { Length: 32 } ? Convert.ToHexStringLower(request.TbsDigest) : string.Empty;
        var retryCount = context.GetRetryAttempt();

        if (tbsHash.Length == 0)
        {
            await RejectAsync(context, Log(request, tbsHash, null, SigningModes.CentralFallback, retryCount, cpuAtStart),
                ErrorTypes.InvalidRequest, "The TBS digest must be 32 bytes.");
            return;
        }

        if (!keys.TryGet(request.Kid, out var key))
        {
            await RejectAsync(context, Log(request, tbsHash, null, SigningModes.CentralFallback, retryCount, cpuAtStart),
                ErrorTypes.UnknownKey, $"No signing key '{request.Kid}'.");
            return;
        }

        if (time.GetUtcNow() >= request.Deadline)
        {
            // Nobody waits for this answer any more: signing now would spend KMS budget for nothing.
            await RejectAsync(context, Log(request, tbsHash, key.Central, SigningModes.CentralFallback, retryCount, cpuAtStart),
                ErrorTypes.SigningTimeout, "The request's deadline passed before a worker took it.");
            return;
        }

        var snapshot = flags.Current;
        var path = SigningPathPolicy.Choose(snapshot.Global, request.TenantId,
            snapshot.OverridesFor(request.TenantId)?.EdgeSignerEnabled, snapshot.EmergencyShutdown, edgeUsable: true);
        var (backend, mode) = path == SigningPath.Edge
            ? (key.EdgeFor(snapshot.EffectiveFor(request.TenantId).SmartPlacementEnabled ? request.Region : null), SigningModes.Edge)
            : (key.Central, SigningModes.CentralFallback);

        var attempt = Log(request, tbsHash, backend, mode, retryCount, cpuAtStart);
        await context.Publish(new SignAttempted { EventId = NewId.NextGuid(), Log = attempt });

        var kmsStarted = time.GetTimestamp();
        byte[] signatureRs;
        try
        {
            var der = await backend.SignDigestAsync(request.TbsDigest, context.CancellationToken);
            signatureRs = EcdsaSignature.DerToRs(der);
            if (!key.Verify(request.TbsDigest, signatureRs))
            {
                throw new InvalidOperationException($"The {backend.Region} backend returned a signature that does not verify.");
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            var failed = attempt with
            {
                Timestamp = time.GetUtcNow(),
                TKmsMs = time.GetElapsedTime(kmsStarted).TotalMilliseconds,
                TTotalMs = TotalMs(request),
                CpuMsUsed = (Environment.CpuUsage.TotalTime - cpuAtStart).TotalMilliseconds,
                ErrorType = ErrorTypes.SigningFailed,
                ErrorMessage = $"{backend.Region} backend: {ex.GetType().Name}",
            };
            await context.Publish(new SignFailed { EventId = NewId.NextGuid(), Log = failed });
            logger.LogWarning("Sign {RequestId} for {TenantId} failed on the {KmsRegion} backend ({ErrorType}, retry {RetryCount})",
                request.RequestId, request.TenantId, backend.Region, ex.GetType().Name, retryCount);
            throw;
        }

        var succeeded = attempt with
        {
            Timestamp = time.GetUtcNow(),
            TKmsMs = time.GetElapsedTime(kmsStarted).TotalMilliseconds,
            TTotalMs = TotalMs(request),
            CpuMsUsed = (Environment.CpuUsage.TotalTime - cpuAtStart).TotalMilliseconds,
            Success = true,
        };

        if (context.ResponseAddress is not null)
        {
            await context.RespondAsync(new SignCompleted
            {
                RequestId = request.RequestId,
                TenantId = request.TenantId,
                Kid = key.Kid,
                SigningMode = mode,
                Region = backend.Region,
                TbsHash = tbsHash,
                Signature = signatureRs,
                SignatureDer = EcdsaSignature.RsToDer(signatureRs),
                CompletedAt = succeeded.Timestamp,
            });
        }

        await context.Publish(new SignSucceeded { EventId = NewId.NextGuid(), Log = succeeded });
        logger.LogInformation(
            "Signed {RequestId} for {TenantId} ({SigningMode}, {KmsRegion}) tbs {TbsHash}: kms {TKmsMs:F1} ms, total {TTotalMs:F1} ms",
            request.RequestId, request.TenantId, mode, backend.Region, tbsHash, succeeded.TKmsMs, succeeded.TTotalMs);
    }

    private async Task RejectAsync(ConsumeContext<SignRequested> context, EdgeSignerLog log, string errorType, string message)
    {
        var failed = log with { ErrorType = errorType, ErrorMessage = message };
        await context.Publish(new SignFailed { EventId = NewId.NextGuid(), Log = failed });
        if (context.ResponseAddress is not null)
        {
            await context.RespondAsync(new SignRejected { RequestId = context.Message.RequestId, ErrorType = errorType, Message = message });
        }

        logger.LogWarning("Sign {RequestId} for {TenantId} rejected: {ErrorType}", context.Message.RequestId, context.Message.TenantId, errorType);
    }

    private EdgeSignerLog Log(SignRequested request, string tbsHash, ISignerBackend? backend, string mode, int retryCount, TimeSpan cpuAtStart) => new()
    {
        RequestId = request.RequestId,
        TenantId = request.TenantId,
        Timestamp = time.GetUtcNow(),
        Region = request.Region ?? backend?.Region ?? string.Empty,
        TWasmMs = request.TbsBuildMs,
        TTotalMs = TotalMs(request),
        CpuMsUsed = (Environment.CpuUsage.TotalTime - cpuAtStart).TotalMilliseconds,
        MemoryMbUsed = Math.Round(Environment.WorkingSet / (1024.0 * 1024.0), 1),
        TbsHash = tbsHash,
        KmsKeyId = backend?.KeyId ?? string.Empty,
        KmsRegion = backend?.Region ?? string.Empty,
        RetryCount = retryCount,
        FallbackTriggered = mode == SigningModes.CentralFallback,
        SigningMode = mode,
        Kid = request.Kid,
        Format = request.Format,
        PayloadSize = request.PayloadSize,
        BatchId = request.BatchId,
        ItemId = request.ItemId,
    };

    private double TotalMs(SignRequested request) => Math.Max(0, (time.GetUtcNow() - request.ReceivedAt).TotalMilliseconds);
}
