using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Contracts.Tbs;
using EdgeSigner.ServiceDefaults.Flags;
using EdgeSigner.SignWorker.Keys;
using EdgeSigner.SignWorker.Routing;
using MassTransit;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>
/// Signs the TBS digest of a <see cref="SignRequested"/> on the path the flags choose, under the failure policy of
/// <see cref="FallbackSigner"/>; answers the requester (if any) and publishes the attempt and its outcome with the
/// seed's <c>EdgeSignerLog</c> fields. Every request ends in a signature or a clear error: nothing is left to hang.
/// </summary>
public sealed class SignRequestedConsumer(
    SigningKeyRegistry keys,
    FlagsState flags,
    FallbackSigner signer,
    TimeProvider time,
    ILogger<SignRequestedConsumer> logger) : IConsumer<SignRequested>
{
    public async Task Consume(ConsumeContext<SignRequested> context)
    {
        var request = context.Message;
        var cpuAtStart = Environment.CpuUsage.TotalTime;
        var tbsHash = request.TbsDigest is { Length: 32 } ? Convert.ToHexStringLower(request.TbsDigest) : string.Empty;

        if (tbsHash.Length == 0)
        {
            await RejectAsync(context, Log(request, tbsHash, null, SigningModes.CentralFallback, cpuAtStart),
                ErrorTypes.InvalidRequest, "The TBS digest must be 32 bytes.");
            return;
        }

        if (!keys.TryGet(request.Kid, out var key))
        {
            await RejectAsync(context, Log(request, tbsHash, null, SigningModes.CentralFallback, cpuAtStart),
                ErrorTypes.UnknownKey, $"No signing key '{request.Kid}'.");
            return;
        }

        if (time.GetUtcNow() >= request.Deadline)
        {
            // Nobody waits for this answer any more: signing now would spend KMS budget for nothing.
            await RejectAsync(context, Log(request, tbsHash, key.Central, SigningModes.CentralFallback, cpuAtStart),
                ErrorTypes.SigningTimeout, "The request's deadline passed before a worker took it.");
            return;
        }

        var snapshot = flags.Current;
        var effective = snapshot.EffectiveFor(request.TenantId);
        var path = SigningPathPolicy.Choose(snapshot.Global, request.TenantId,
            snapshot.OverridesFor(request.TenantId)?.EdgeSignerEnabled, snapshot.EmergencyShutdown, edgeUsable: true);
        var edge = key.EdgeFor(effective.SmartPlacementEnabled ? request.Region : null);
        var planned = path == SigningPath.Edge ? edge : key.Central;

        var attempt = Log(request, tbsHash, planned, path == SigningPath.Edge ? SigningModes.Edge : SigningModes.CentralFallback, cpuAtStart);
        await context.Publish(new SignAttempted { EventId = NewId.NextGuid(), Log = attempt });

        var outcome = await signer.SignAsync(key, path, edge, request.TbsDigest, effective, request.Deadline,
            key.FallbackOnConfigurationError, context.CancellationToken);
        var mode = outcome.Edge ? SigningModes.Edge : SigningModes.CentralFallback;
        var log = attempt with
        {
            Timestamp = time.GetUtcNow(),
            TKmsMs = outcome.KmsMs,
            TTotalMs = TotalMs(request),
            CpuMsUsed = (Environment.CpuUsage.TotalTime - cpuAtStart).TotalMilliseconds,
            KmsKeyId = outcome.Backend.KeyId,
            KmsRegion = outcome.Backend.Region,
            Region = request.Region ?? outcome.Backend.Region,
            SigningMode = mode,
            Success = outcome.Success,
            ErrorType = outcome.ErrorType,
            ErrorMessage = outcome.ErrorMessage,
            RetryCount = outcome.RetryCount,
            FallbackTriggered = outcome.FallbackTriggered,
        };

        if (!outcome.Success)
        {
            await RejectAsync(context, log, outcome.ErrorType!, outcome.ErrorMessage!);
            return;
        }

        var signatureRs = outcome.SignatureRs!;
        if (context.ResponseAddress is not null)
        {
            await context.RespondAsync(new SignCompleted
            {
                RequestId = request.RequestId,
                TenantId = request.TenantId,
                Kid = key.Kid,
                SigningMode = mode,
                Region = outcome.Backend.Region,
                TbsHash = tbsHash,
                Signature = signatureRs,
                SignatureDer = EcdsaSignature.RsToDer(signatureRs),
                CompletedAt = log.Timestamp,
            });
        }

        await context.Publish(new SignSucceeded { EventId = NewId.NextGuid(), Log = log });
        logger.LogInformation(
            "Signed {RequestId} for {TenantId} ({SigningMode}, {KmsRegion}) tbs {TbsHash}: kms {TKmsMs:F1} ms, total {TTotalMs:F1} ms, retries {RetryCount}, fallback {FallbackTriggered}",
            request.RequestId, request.TenantId, mode, outcome.Backend.Region, tbsHash, log.TKmsMs, log.TTotalMs, log.RetryCount, log.FallbackTriggered);
    }

    private async Task RejectAsync(ConsumeContext<SignRequested> context, EdgeSignerLog log, string errorType, string message)
    {
        var failed = log with { Success = false, ErrorType = errorType, ErrorMessage = message };
        await context.Publish(new SignFailed { EventId = NewId.NextGuid(), Log = failed });
        if (context.ResponseAddress is not null)
        {
            await context.RespondAsync(new SignRejected { RequestId = context.Message.RequestId, ErrorType = errorType, Message = message });
        }

        logger.LogWarning("Sign {RequestId} for {TenantId} failed: {ErrorType}: {ErrorMessage}",
            context.Message.RequestId, context.Message.TenantId, errorType, message);
    }

    private EdgeSignerLog Log(SignRequested request, string tbsHash, ISignerBackend? backend, string mode, TimeSpan cpuAtStart) => new()
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
        SigningMode = mode,
        Kid = request.Kid,
        Format = request.Format,
        PayloadSize = request.PayloadSize,
        BatchId = request.BatchId,
        ItemId = request.ItemId,
    };

    private double TotalMs(SignRequested request) => Math.Max(0, (time.GetUtcNow() - request.ReceivedAt).TotalMilliseconds);
}
