using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Contracts.Tbs;
using EdgeSigner.Guardrails.Flags;
using EdgeSigner.ServiceDefaults.Observability;
using EdgeSigner.SignWorker.Observability;
using EdgeSigner.SignWorker.CircuitBreaking;
using EdgeSigner.SignWorker.Keys;
using EdgeSigner.SignWorker.Results;
using EdgeSigner.SignWorker.Routing;
using MassTransit;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>
/// Synchronous and bus requests from the <c>sign-requested</c> queue. A request someone waits for (it has a reply
/// address) holds a <see cref="SyncFirst"/> turn: this worker's batch items wait for it.
/// </summary>
public sealed class SignRequestedConsumer(SignRequestHandler handler, SyncFirst syncFirst) : IConsumer<SignRequested>
{
    public async Task Consume(ConsumeContext<SignRequested> context)
    {
        if (context.ResponseAddress is null)
        {
            await handler.HandleAsync(context, batchItem: false);
            return;
        }

        using var turn = syncFirst.Enter();
        await handler.HandleAsync(context, batchItem: false);
    }
}

/// <summary>
/// Batch items from the <c>sign-batch-items</c> queue, taken many at a time (MassTransit's batch consumer): the same
/// work at a lower priority for KMS budget, with one database statement for many items instead of several per item.
/// </summary>
public sealed class SignBatchItemConsumer(SignRequestHandler handler) : IConsumer<Batch<SignRequested>>
{
    public Task Consume(ConsumeContext<Batch<SignRequested>> context) => handler.HandleBatchAsync(context);
}

/// <summary>
/// Signs the TBS digest of a <see cref="SignRequested"/> on the path the flags choose, under the failure policy of
/// <see cref="FallbackSigner"/>, exactly once per request id (<see cref="SignResultStore"/>): answers the requester
/// (if any) and publishes the attempt and its outcome with the seed's <c>EdgeSignerLog</c> fields. Every request ends
/// in a signature or a clear error, recorded before the message is acknowledged; nothing is left to hang.
/// </summary>
public sealed class SignRequestHandler(
    SigningKeyRegistry keys,
    FlagsState flags,
    FallbackSigner signer,
    SignResultStore results,
    OutcomeOutbox outbox,
    KmsCircuitBreakers breakers,
    SignerMetrics metrics,
    SyncFirst syncFirst,
    TimeProvider time,
    ILogger<SignRequestHandler> logger)
{
    public async Task HandleAsync(ConsumeContext<SignRequested> context, bool batchItem)
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

        // Exactly one result per request id: a redelivery (or a client's retry with the same Idempotency-Key)
        // gets the recorded result, without calling KMS again.
        var recorded = await results.FindAsync(request.RequestId, context.CancellationToken);
        if (recorded?.CompletedAt is not null)
        {
            await ReplayAsync(context, recorded);
            return;
        }

        if (!await results.ClaimAsync(request, tbsHash, breakers.Instance, context.CancellationToken))
        {
            throw new ResultPendingException($"Request {request.RequestId} is being signed by another worker.");
        }

        if (time.GetUtcNow() >= request.Deadline)
        {
            // Nobody waits for this answer any more: signing now would spend KMS budget for nothing.
            await RejectAsync(context, Log(request, tbsHash, key.Central, SigningModes.CentralFallback, cpuAtStart),
                ErrorTypes.SigningTimeout, "The request's deadline passed before a worker took it.", record: true);
            return;
        }

        (EdgeSignerLog Log, SignOutcome Outcome) signedResult;
        try
        {
            signedResult = await SignClaimedAsync(context, key, tbsHash, batchItem, cpuAtStart);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Nothing was signed (the attempt could not be published): free the claim so the retry can take it now.
            await results.ReleaseClaimsAsync([request.RequestId], breakers.Instance, CancellationToken.None);
            throw;
        }

        var (log, outcome) = signedResult;
        if (!outcome.Success)
        {
            await RejectAsync(context, log, outcome.ErrorType!, outcome.ErrorMessage!, record: true);
            return;
        }

        var mode = log.SigningMode;
        var signatureRs = outcome.SignatureRs!;
        await results.CompleteAsync(new SignResultStore.Outcome(log, signatureRs), context.CancellationToken);
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
                Log = log,
            });
        }

        await Task.WhenAll(
            OutcomeOutbox.PublishAsync(context, log, signatureRs, request.ItemIndex),
            context.Publish(AnalyticsEvent.From(AnalyticsEvent.Success, log)));
        outbox.Published(log.RequestId);
        metrics.RecordOutcome(log);
        SignLog.Write(logger, "sign-worker", log);
    }

    /// <summary>
    /// Batch items, many at a time: one statement claims them all, their KMS calls run together (under the global
    /// budget, at low priority), one statement records every outcome, and the events are
    /// published together. Anything unusual (a redelivery, another worker's claim, a passed deadline, a bad digest
    /// or key, a reply address) takes the one-by-one path of <see cref="HandleAsync"/>, as does every item where
    /// the store cannot do this in bulk (SQLite, in embedded mode).
    /// </summary>
    public async Task HandleBatchAsync(ConsumeContext<Batch<SignRequested>> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await syncFirst.YieldAsync(context.CancellationToken);
        var cpuAtStart = Environment.CpuUsage.TotalTime;
        var messages = context.Message.DistinctBy(m => m.Message.RequestId).ToList();
        var oneByOne = new List<ConsumeContext<SignRequested>>();
        var candidates = new List<(ConsumeContext<SignRequested> Context, SigningKey Key, string TbsHash)>();
        foreach (var item in messages)
        {
            var request = item.Message;
            if (results.SupportsBulk && item.ResponseAddress is null && request.TbsDigest is { Length: 32 } && keys.TryGet(request.Kid, out var key)
                && time.GetUtcNow() < request.Deadline)
            {
                candidates.Add((item, key, Convert.ToHexStringLower(request.TbsDigest)));
            }
            else
            {
                oneByOne.Add(item);
            }
        }

        if (candidates.Count > 0)
        {
            var claimed = await results.ClaimManyAsync(candidates.Select(c => (c.Context.Message, c.TbsHash)).ToList(), breakers.Instance,
                context.CancellationToken);
            oneByOne.AddRange(candidates.Where(c => !claimed.Contains(c.Context.Message.RequestId)).Select(c => c.Context));
            var signing = candidates.Where(c => claimed.Contains(c.Context.Message.RequestId))
                .Select(async c => (c.Context, Result: await SignClaimedAsync(c.Context, c.Key, c.TbsHash, batchItem: true, cpuAtStart))).ToList();
            try
            {
                await Task.WhenAll(signing);
            }
            catch (Exception) when (signing.Any(t => t.IsCompletedSuccessfully))
            {
                // Some items failed before their KMS call (the broker went away while publishing their attempt):
                // keep what the others signed, free the rest for the retry, then let the retry policy see the failure.
                var done = signing.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result).ToList();
                await RecordAsync(done, context.CancellationToken);
                await results.ReleaseClaimsAsync(claimed.Except(done.Select(d => d.Context.Message.RequestId)).ToList(), breakers.Instance, context.CancellationToken);
                throw;
            }
            catch (Exception)
            {
                await results.ReleaseClaimsAsync(claimed.ToList(), breakers.Instance, context.CancellationToken);
                throw;
            }

            var signed = signing.Select(t => t.Result).ToList();
            await RecordAsync(signed, context.CancellationToken);
            // The group's results travel together: one batch-results message for the group, not one per item.
            await Task.WhenAll(signed
                .Select(s => s.Context.Publish(AnalyticsEvent.From(s.Result.Log.Success ? AnalyticsEvent.Success : AnalyticsEvent.Failure, s.Result.Log)))
                .Append(OutcomeOutbox.PublishAsync(context,
                    signed.Select(s => new OutcomeOutbox.Ended(s.Result.Log, s.Result.Outcome.SignatureRs, s.Context.Message.ItemIndex)).ToList(),
                    context.CancellationToken)));
            foreach (var s in signed)
            {
                outbox.Published(s.Result.Log.RequestId);
                metrics.RecordOutcome(s.Result.Log);
                SignLog.Write(logger, "sign-worker", s.Result.Log);
            }
        }

        foreach (var item in oneByOne)
        {
            await HandleAsync(item, batchItem: true);
        }
    }

    private Task<HashSet<Guid>> RecordAsync(IReadOnlyList<(ConsumeContext<SignRequested> Context, (EdgeSignerLog Log, SignOutcome Outcome) Result)> signed,
        CancellationToken cancellationToken) =>
        results.CompleteManyAsync(signed.Select(s => new SignResultStore.Outcome(s.Result.Log, s.Result.Outcome.SignatureRs)).ToList(), cancellationToken);

    /// <summary>
    /// Signs a claimed request on the path the flags choose, publishing its attempt first; returns the request's
    /// log (with the outcome's figures and error, if any) and the outcome.
    /// </summary>
    private async Task<(EdgeSignerLog Log, SignOutcome Outcome)> SignClaimedAsync(
        ConsumeContext<SignRequested> context, SigningKey key, string tbsHash, bool batchItem, TimeSpan cpuAtStart)
    {
        var request = context.Message;
        var snapshot = flags.Current;
        var effective = snapshot.EffectiveFor(request.TenantId);
        var path = SigningPathPolicy.Choose(snapshot.Global, request.TenantId,
            snapshot.OverridesFor(request.TenantId)?.EdgeSignerEnabled, snapshot.EmergencyShutdown, edgeUsable: true);
        var edge = key.EdgeFor(effective.SmartPlacementEnabled ? request.Region : null);
        var planned = path == SigningPath.Edge ? edge : key.Central;

        if (batchItem)
        {
            await syncFirst.YieldAsync(context.CancellationToken);
        }

        var attempt = Log(request, tbsHash, planned, path == SigningPath.Edge ? SigningModes.Edge : SigningModes.CentralFallback, cpuAtStart);
        await Task.WhenAll(
            context.Publish(new SignAttempted { EventId = NewId.NextGuid(), Log = attempt }),
            context.Publish(AnalyticsEvent.From(AnalyticsEvent.Attempt, attempt)));

        var outcome = await signer.SignAsync(new SignJob(key, request.TbsDigest, request.Deadline, LowPriority: batchItem), path, edge, effective,
            context.CancellationToken);
        var log = attempt with
        {
            Timestamp = time.GetUtcNow(),
            TKmsMs = outcome.KmsMs,
            TTotalMs = TotalMs(request),
            CpuMsUsed = (Environment.CpuUsage.TotalTime - cpuAtStart).TotalMilliseconds,
            KmsKeyId = outcome.Backend.KeyId,
            KmsRegion = outcome.Backend.Region,
            Region = request.Region ?? outcome.Backend.Region,
            SigningMode = outcome.Edge ? SigningModes.Edge : SigningModes.CentralFallback,
            Success = outcome.Success,
            ErrorType = outcome.ErrorType,
            ErrorMessage = outcome.ErrorMessage,
            RetryCount = outcome.RetryCount,
            FallbackTriggered = outcome.FallbackTriggered,
        };
        return (log, outcome);
    }

    private async Task RejectAsync(ConsumeContext<SignRequested> context, EdgeSignerLog log, string errorType, string message, bool record = false)
    {
        var failed = log with { Success = false, ErrorType = errorType, ErrorMessage = message, TTotalMs = TotalMs(context.Message) };
        if (record)
        {
            await results.CompleteAsync(new SignResultStore.Outcome(failed, null), context.CancellationToken);
        }

        await Task.WhenAll(
            OutcomeOutbox.PublishAsync(context, failed, null, context.Message.ItemIndex),
            context.Publish(AnalyticsEvent.From(AnalyticsEvent.Failure, failed)));
        if (record)
        {
            outbox.Published(failed.RequestId);
        }

        if (context.ResponseAddress is not null)
        {
            await context.RespondAsync(new SignRejected { RequestId = context.Message.RequestId, ErrorType = errorType, Message = message, Log = failed });
        }

        metrics.RecordOutcome(failed);
        SignLog.Write(logger, "sign-worker", failed);
    }

    /// <summary>
    /// Answers a redelivered request with its recorded result, without calling KMS again. Its outcome event is the
    /// outbox's to publish (<see cref="OutcomeOutbox"/>); without an outbox (embedded mode) it is published again
    /// here under the same event id, and the audit store keeps the one row it has.
    /// </summary>
    private async Task ReplayAsync(ConsumeContext<SignRequested> context, Data.SignResultRecord recorded)
    {
        logger.LogInformation("Replayed the recorded result of {RequestId} (a redelivery)", recorded.RequestId);
        if (!outbox.Enabled)
        {
            var request = context.Message;
            await OutcomeOutbox.PublishAsync(context, Log(request, recorded.TbsHash, null, recorded.SigningMode ?? SigningModes.CentralFallback,
                Environment.CpuUsage.TotalTime) with
            {
                Timestamp = recorded.CompletedAt!.Value,
                Region = request.Region ?? recorded.Region ?? string.Empty,
                KmsRegion = recorded.Region ?? string.Empty,
                Success = recorded.Signature is not null,
                ErrorType = recorded.ErrorType,
                ErrorMessage = recorded.ErrorMessage,
            }, recorded.Signature, recorded.ItemIndex);
        }

        if (context.ResponseAddress is null)
        {
            return;
        }

        if (recorded.Signature is { } signature)
        {
            await context.RespondAsync(new SignCompleted
            {
                RequestId = recorded.RequestId,
                TenantId = recorded.TenantId,
                Kid = recorded.Kid,
                SigningMode = recorded.SigningMode!,
                Region = recorded.Region!,
                TbsHash = recorded.TbsHash,
                Signature = signature,
                SignatureDer = EcdsaSignature.RsToDer(signature),
                CompletedAt = recorded.CompletedAt!.Value,
            });
        }
        else
        {
            await context.RespondAsync(new SignRejected { RequestId = recorded.RequestId, ErrorType = recorded.ErrorType!, Message = recorded.ErrorMessage ?? string.Empty });
        }
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
