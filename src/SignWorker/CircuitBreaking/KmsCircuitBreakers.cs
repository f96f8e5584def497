using System.Collections.Concurrent;
using EdgeSigner.Contracts.Breakers;
using EdgeSigner.SignWorker.Signing;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EdgeSigner.SignWorker.CircuitBreaking;

/// <summary>
/// This worker's breakers, one per KMS key and region, created on first use. Each transition is logged and
/// published as <see cref="CircuitBreakerStateChanged"/> (for the audit trail and the operators' view).
/// </summary>
public sealed class KmsCircuitBreakers(
    IOptions<FailurePolicyOptions> options, TimeProvider time, IServiceProvider services, ILogger<KmsCircuitBreakers> logger)
{
    private readonly ConcurrentDictionary<(string KeyId, string Region), BreakerState> _breakers = new();
    private readonly Lock _gate = new();

    /// <summary>Names this worker instance in reports and transitions.</summary>
    public string Instance { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";

    public BreakerRules Rules { get; } = new(
        options.Value.BreakerFailureThreshold,
        TimeSpan.FromMilliseconds(options.Value.BreakerWindowMs),
        TimeSpan.FromMilliseconds(options.Value.BreakerResetIntervalMs));

    public bool TryAcquire(string keyId, string region) => Update(keyId, region, (s, now) => s.TryAcquire(now, Rules));

    public void OnSuccess(string keyId, string region) => Update(keyId, region, (s, now) => (true, s.OnSuccess(now)));

    public void OnFailure(string keyId, string region, bool throttled) =>
        Update(keyId, region, (s, now) => (true, s.OnFailure(now, throttled, Rules)));

    public void OnInconclusive(string keyId, string region) => Update(keyId, region, (s, _) => (true, s.OnInconclusive()));

    /// <summary>Lists a breaker (closed) before its first call, so operators see every edge backend from the start.</summary>
    public void Track(string keyId, string region) => _breakers.TryAdd((keyId, region), BreakerState.Closed);

    /// <summary>Closes every breaker of this instance (an operator's reset).</summary>
    public void ResetAll()
    {
        foreach (var (keyId, region) in _breakers.Keys)
        {
            Update(keyId, region, (s, now) => (true, s.State == BreakerStates.Closed && s.FailuresInWindow == 0 ? s : s.Reset(now)));
        }
    }

    public IReadOnlyList<BreakerStatus> Snapshot() => _breakers
        .Select(b => new BreakerStatus
        {
            KmsKeyId = b.Key.KeyId,
            Region = b.Key.Region,
            State = b.Value.State,
            FailuresInWindow = b.Value.FailuresInWindow,
            TotalFailures = b.Value.TotalFailures,
            LastTransitionAt = b.Value.LastTransitionAt,
            LastTransitionReason = b.Value.LastTransitionReason,
        })
        .OrderBy(b => b.KmsKeyId, StringComparer.Ordinal).ThenBy(b => b.Region, StringComparer.Ordinal)
        .ToList();

    private bool Update(string keyId, string region, Func<BreakerState, DateTimeOffset, (bool Result, BreakerState Next)> change)
    {
        BreakerState before, after;
        bool result;
        lock (_gate)
        {
            before = _breakers.GetValueOrDefault((keyId, region), BreakerState.Closed);
            (result, after) = change(before, time.GetUtcNow());
            _breakers[(keyId, region)] = after;
        }

        if (after.State != before.State)
        {
            Report(keyId, region, before, after);
        }

        return result;
    }

    private void Report(string keyId, string region, BreakerState before, BreakerState after)
    {
        if (after.State == BreakerStates.Open)
        {
            logger.LogError("Circuit breaker for KMS key {KmsKeyId} in {KmsRegion} OPEN ({Reason}): edge requests fall back to central",
                keyId, region, after.LastTransitionReason);
        }
        else
        {
            logger.LogWarning("Circuit breaker for KMS key {KmsKeyId} in {KmsRegion}: {From} -> {To} ({Reason})",
                keyId, region, before.State, after.State, after.LastTransitionReason);
        }

        var changed = new CircuitBreakerStateChanged
        {
            EventId = NewId.NextGuid(),
            OccurredAt = after.LastTransitionAt ?? time.GetUtcNow(),
            WorkerInstance = Instance,
            KmsKeyId = keyId,
            Region = region,
            From = before.State,
            To = after.State,
            Reason = after.LastTransitionReason ?? string.Empty,
            FailuresInWindow = before.FailuresInWindow,
        };
        var bus = services.GetRequiredService<IBus>();
        _ = PublishAsync(bus, changed);
    }

    private async Task PublishAsync(IBus bus, CircuitBreakerStateChanged changed)
    {
        try
        {
            await bus.Publish(changed);
            await bus.Publish(new CircuitBreakerStatusReported { WorkerInstance = Instance, ReportedAt = time.GetUtcNow(), Breakers = Snapshot() });
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogError("Could not publish the breaker transition {From} -> {To} of {KmsKeyId}: {Reason}",
                changed.From, changed.To, changed.KmsKeyId, ex.GetType().Name);
        }
    }
}
