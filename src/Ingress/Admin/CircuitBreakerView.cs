using System.Collections.Concurrent;
using EdgeSigner.Contracts.Breakers;
using MassTransit;

namespace EdgeSigner.Ingress.Admin;

/// <summary>
/// The breakers of every worker instance, as they last reported them (periodically, and after each transition).
/// Instances that stopped reporting drop out after <see cref="StaleAfter"/>.
/// </summary>
public sealed class CircuitBreakerView(TimeProvider time)
{
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, CircuitBreakerStatusReported> _workers = new(StringComparer.Ordinal);

    public void Apply(CircuitBreakerStatusReported report)
    {
        ArgumentNullException.ThrowIfNull(report);
        _workers.AddOrUpdate(report.WorkerInstance, report, (_, current) => report.ReportedAt >= current.ReportedAt ? report : current);
    }

    public IReadOnlyList<CircuitBreakerStatusReported> Workers()
    {
        var now = time.GetUtcNow();
        return _workers.Values.Where(w => now - w.ReportedAt < StaleAfter).OrderBy(w => w.WorkerInstance, StringComparer.Ordinal).ToList();
    }

    /// <summary>One line per KMS key and region across instances: the worst state, the summed failures, the newest transition.</summary>
    public static IReadOnlyList<BreakerStatus> Aggregate(IEnumerable<CircuitBreakerStatusReported> workers) => workers
        .SelectMany(w => w.Breakers)
        .GroupBy(b => (b.KmsKeyId, b.Region))
        .Select(g => new BreakerStatus
        {
            KmsKeyId = g.Key.KmsKeyId,
            Region = g.Key.Region,
            State = g.Any(b => b.State == BreakerStates.Open) ? BreakerStates.Open
                : g.Any(b => b.State == BreakerStates.HalfOpen) ? BreakerStates.HalfOpen : BreakerStates.Closed,
            FailuresInWindow = g.Sum(b => b.FailuresInWindow),
            TotalFailures = g.Sum(b => b.TotalFailures),
            LastTransitionAt = g.Max(b => b.LastTransitionAt),
            LastTransitionReason = g.OrderByDescending(b => b.LastTransitionAt).First().LastTransitionReason,
        })
        .OrderBy(b => b.KmsKeyId, StringComparer.Ordinal).ThenBy(b => b.Region, StringComparer.Ordinal)
        .ToList();
}

public sealed class CircuitBreakerStatusConsumer(CircuitBreakerView view) : IConsumer<CircuitBreakerStatusReported>
{
    public Task Consume(ConsumeContext<CircuitBreakerStatusReported> context)
    {
        view.Apply(context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>A temporary queue per ingress instance, so each one's view covers every worker.</summary>
public sealed class CircuitBreakerStatusConsumerDefinition : ConsumerDefinition<CircuitBreakerStatusConsumer>
{
    public CircuitBreakerStatusConsumerDefinition() => Endpoint(endpoint =>
    {
        endpoint.Name = "edge-signer-breaker-status";
        endpoint.InstanceId = Guid.NewGuid().ToString("N")[..12];
        endpoint.Temporary = true;
    });
}
