using EdgeSigner.SignWorker.Observability;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.CircuitBreaking;
using EdgeSigner.SignWorker.Keys;
using EdgeSigner.SignWorker.Results;
using EdgeSigner.SignWorker.Senders;
using MassTransit;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>
/// One <see cref="SignRequested"/>, step by step: check it (<see cref="RequestCheck"/>) and its sender
/// (<see cref="BusSenders"/>: a tenant's own service must be admitted by the ingress's guardrails), claim its request id or
/// replay its recorded result (<see cref="ClaimOrReplay"/>), refuse it if its deadline passed, sign it
/// (<see cref="ClaimedSigner"/>, under the failure policy), record the result, answer the requester if any
/// (<see cref="Answers"/>) and emit its events (<see cref="OutcomeEvents"/>). Every request ends in a signature or a
/// clear error, recorded before the message is acknowledged; nothing is left to hang.
/// </summary>
public sealed class SignPipeline(
    SigningKeyRegistry keys, BusSenders senders, SignResultStore results, KmsCircuitBreakers breakers, ClaimedSigner signer, OutcomeEvents events,
    TimeProvider time)
{
    public async Task HandleAsync(ConsumeContext<SignRequested> context, bool batchItem)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Message;
        var cpuAtStart = ProcessLoad.CpuTime;
        var check = RequestCheck.Check(request, keys.Find);
        if (await senders.CheckAsync(context) is { } refused)
        {
            await RejectAsync(context, Begin(check.TbsHash, null), refused.ErrorType, refused.Message, record: false);
            return;
        }

        if (!check.CanSign)
        {
            await RejectAsync(context, Begin(check.TbsHash, null), check.ErrorType!, check.Message!, record: false);
            return;
        }

        var key = check.Key!;
        var claim = await ClaimOrReplay.DecideAsync(results, request, check.TbsHash, breakers.Instance, context.CancellationToken);
        switch (claim.Kind)
        {
            case ClaimKind.Replay:
                await events.ReplayedAsync(context, claim.Recorded!, time.GetUtcNow());
                await Answers.ReplayAsync(context, claim.Recorded!);
                return;
            case ClaimKind.HeldElsewhere:
                // The endpoint's retry policy tries again later: by then a result to replay, or an expired claim.
                throw new ResultPendingException($"Request {request.RequestId} is being signed by another worker.");
        }

        if (time.GetUtcNow() >= request.Deadline)
        {
            // Nobody waits for this answer any more: signing now would spend KMS budget for nothing.
            await RejectAsync(context, Begin(check.TbsHash, key.Central), ErrorTypes.SigningTimeout,
                "The request's deadline passed before a worker took it.", record: true);
            return;
        }

        SignedRequest signed;
        try
        {
            signed = await signer.SignAsync(context, key, check.TbsHash, batchItem, cpuAtStart);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Nothing was signed (the attempt could not be published): free the claim so the retry can take it now.
            await results.ReleaseClaimsAsync([request.RequestId], breakers.Instance, CancellationToken.None);
            throw;
        }

        if (!signed.Outcome.Success)
        {
            await RejectAsync(context, signed.Log, signed.Outcome.ErrorType!, signed.Outcome.ErrorMessage!, record: true);
            return;
        }

        // A signature KMS made is recorded even if the message was cancelled meanwhile (the broker went away): else its
        // redelivery would find no result and sign at KMS again.
        await results.CompleteAsync(new SignResultStore.Outcome(signed.Log, signed.Outcome.SignatureRs), CancellationToken.None);
        if (context.ResponseAddress is not null)
        {
            await context.RespondAsync(Answers.Completed(request, key.Kid, signed.Outcome, signed.Log));
        }

        await events.EndedAsync(context, signed.Log, signed.Outcome.SignatureRs, recorded: true);

        EdgeSignerLog Begin(string tbsHash, ISignerBackend? backend) =>
            SignLogs.Begin(request, tbsHash, backend, SigningModes.CentralFallback, cpuAtStart, time.GetUtcNow());
    }

    /// <summary>A clear error: recorded (when the request id was claimed), emitted, answered.</summary>
    private async Task RejectAsync(ConsumeContext<SignRequested> context, EdgeSignerLog log, string errorType, string message, bool record)
    {
        var failed = SignLogs.Failed(log, context.Message, errorType, message, time.GetUtcNow());
        if (record)
        {
            await results.CompleteAsync(new SignResultStore.Outcome(failed, null), context.CancellationToken);
        }

        await events.EndedAsync(context, failed, null, recorded: record);
        if (context.ResponseAddress is not null)
        {
            await context.RespondAsync(Answers.Rejected(context.Message, failed));
        }
    }
}
