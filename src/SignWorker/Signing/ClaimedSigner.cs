using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Guardrails.Flags;
using EdgeSigner.SignWorker.Keys;
using EdgeSigner.SignWorker.Routing;
using MassTransit;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>A claimed request signed (or not): its log, with the outcome's figures and error, and the outcome.</summary>
public sealed record SignedRequest(EdgeSignerLog Log, SignOutcome Outcome);

/// <summary>
/// Signs a claimed request: chooses the path the flags say (edge or central, smart placement), publishes the attempt
/// before the KMS call (so an attempt whose worker dies mid-call is still in the audit trail), and signs under the
/// failure policy. Batch items first let this worker's synchronous requests go.
/// </summary>
public sealed class ClaimedSigner(FlagsState flags, FallbackSigner signer, SyncFirst syncFirst, TimeProvider time)
{
    public async Task<SignedRequest> SignAsync(ConsumeContext<SignRequested> context, SigningKey key, string tbsHash, bool batchItem, TimeSpan cpuAtStart)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(key);
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

        var attempt = SignLogs.Begin(request, tbsHash, planned, path == SigningPath.Edge ? SigningModes.Edge : SigningModes.CentralFallback, cpuAtStart,
            time.GetUtcNow());
        await Task.WhenAll(
            context.Publish(new SignAttempted { EventId = NewId.NextGuid(), Log = attempt }),
            context.Publish(AnalyticsEvent.From(AnalyticsEvent.Attempt, attempt)));

        var outcome = await signer.SignAsync(new SignJob(key, request.TbsDigest, request.Deadline, LowPriority: batchItem), path, edge, effective,
            context.CancellationToken);
        return new SignedRequest(SignLogs.End(attempt, request, outcome, cpuAtStart, time.GetUtcNow()), outcome);
    }
}
