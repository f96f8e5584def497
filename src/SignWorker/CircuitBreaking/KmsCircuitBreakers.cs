using System.Collections.Concurrent;
using EdgeSigner.Contracts.Breakers;
using EdgeSigner.SignWorker.Signing;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EdgeSigner.SignWorker.CircuitBreaking;

/// <summary>
/// This worker's breakers (<see cref="KmsBreaker"/>, MassTransit's filters), one per KMS key and region, created on
/// first use. Each state change the filters report is logged and published as <see cref="CircuitBreakerStateChanged"/>
/// (for the audit trail and the operators' view).
/// </summary>
public sealed class KmsCircuitBreakers(
    IOptions<FailurePolicyOptions> options, TimeProvider time, IServiceProvider services, ILogger<KmsCircuitBreakers> logger)
{
    private readonly ConcurrentDictionary<(string KeyId, string Region), KmsBreaker> _breakers = new();
    private readonly Lock _gate = new();

    private readonly KmsBreakerSettings _settings = new(
        options.Value.BreakerFailureThreshold,
        options.Value.BreakerTripThresholdPercent,
        TimeSpan.FromMilliseconds(options.Value.BreakerWindowMs),
        TimeSpan.FromMilliseconds(options.Value.BreakerResetIntervalMs));

    /// <summary>Names this worker instance in reports and transitions.</summary>
    public string Instance { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>
    /// Runs <paramref name="work"/> (one backend call) behind the breakers of its key and region, or directly when
    /// <paramref name="enabled"/> is false (<c>circuit_breaker_enabled</c> off: no breaker at all). False when a
    /// breaker refused the call.
    /// </summary>
    public Task<bool> TrySendAsync(string keyId, string region, bool enabled, Func<Task> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        return enabled ? For(keyId, region).TrySendAsync(work, cancellationToken) : RunAsync(work);

        static async Task<bool> RunAsync(Func<Task> work)
        {
            await work();
            return true;
        }
    }

    /// <summary>Lists a breaker (closed) before its first call, so operators see every edge backend from the start.</summary>
    public void Track(string keyId, string region) => For(keyId, region);

    /// <summary>Closes every breaker of this instance (an operator's reset).</summary>
    public void ResetAll()
    {
        foreach (var breaker in _breakers.Values)
        {
            breaker.Reset();
            Changed(breaker, "operator_reset");
        }
    }

    /// <summary>Every breaker as its filters report it now; a state change noticed here is reported too.</summary>
    public IReadOnlyList<BreakerStatus> Snapshot()
    {
        foreach (var breaker in _breakers.Values)
        {
            Changed(breaker);
        }

        return _breakers.Values.Select(b => b.Read())
            .OrderBy(b => b.KmsKeyId, StringComparer.Ordinal).ThenBy(b => b.Region, StringComparer.Ordinal)
            .ToList();
    }

    private KmsBreaker For(string keyId, string region) =>
        _breakers.GetOrAdd((keyId, region), k => new KmsBreaker(k.KeyId, k.Region, _settings, b => Changed(b)));

    /// <summary>Compares the filters' state with the one last reported, and reports the transition if it moved.</summary>
    private void Changed(KmsBreaker breaker, string? reason = null)
    {
        CircuitBreakerStateChanged changed;
        lock (_gate)
        {
            var now = breaker.Read().State;
            var before = breaker.ReportedState;
            if (now == before)
            {
                return;
            }

            reason ??= (before, now) switch
            {
                (BreakerStates.HalfOpen, BreakerStates.Open) => "probe_failed",
                (_, BreakerStates.Open) when breaker.LastOpenedBy is KmsCallFailedException { IsThrottle: true } => "throttled",
                (_, BreakerStates.Open) => "failure_threshold",
                (_, BreakerStates.HalfOpen) => "reset_interval",
                _ => "probe_succeeded",
            };
            breaker.ReportedState = now;
            breaker.LastTransitionAt = time.GetUtcNow();
            breaker.LastTransitionReason = reason;
            changed = new CircuitBreakerStateChanged
            {
                EventId = NewId.NextGuid(),
                OccurredAt = breaker.LastTransitionAt.Value,
                WorkerInstance = Instance,
                KmsKeyId = breaker.KeyId,
                Region = breaker.Region,
                From = before,
                To = now,
                Reason = reason,
                FailuresInWindow = (int)Math.Min(int.MaxValue, breaker.FailuresSinceClosed),
            };
            if (now == BreakerStates.Closed)
            {
                breaker.ClearFailuresSinceClosed();
            }
        }

        if (changed.To == BreakerStates.Open)
        {
            logger.LogError("Circuit breaker for KMS key {KmsKeyId} in {KmsRegion} OPEN ({Reason}): edge requests fall back to central",
                changed.KmsKeyId, changed.Region, changed.Reason);
        }
        else
        {
            logger.LogWarning("Circuit breaker for KMS key {KmsKeyId} in {KmsRegion}: {From} -> {To} ({Reason})",
                changed.KmsKeyId, changed.Region, changed.From, changed.To, changed.Reason);
        }

        _ = PublishAsync(services.GetRequiredService<IBus>(), changed);
    }

    private async Task PublishAsync(IBus bus, CircuitBreakerStateChanged changed)
    {
        try
        {
            await bus.Publish(changed);
            await bus.Publish(new CircuitBreakerStatusReported
            {
                WorkerInstance = Instance, ReportedAt = time.GetUtcNow(), Breakers = _breakers.Values.Select(b => b.Read()).ToList(),
            });
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogError("Could not publish the breaker transition {From} -> {To} of {KmsKeyId}: {Reason}",
                changed.From, changed.To, changed.KmsKeyId, ex.GetType().Name);
        }
    }
}
