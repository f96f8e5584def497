using EdgeSigner.Contracts.Breakers;
using EdgeSigner.ServiceDefaults;
using EdgeSigner.SignWorker.Keys;
using EdgeSigner.SignWorker.Signing;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EdgeSigner.SignWorker.CircuitBreaking;

/// <summary>
/// Publishes this worker's breakers once the host has started and then periodically, so the operators' view covers
/// every instance. Every edge backend's breaker is listed from the start (closed), local key files included.
/// </summary>
public sealed class CircuitBreakerStatusReporter(
    KmsCircuitBreakers breakers, SigningKeyRegistry keys, IBus bus, IHostApplicationLifetime lifetime, IOptions<FailurePolicyOptions> options,
    TimeProvider time, ILogger<CircuitBreakerStatusReporter> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var backend in keys.Keys.SelectMany(k => k.EdgeBackends))
        {
            breakers.Track(backend.KeyId, backend.Region);
        }

        await lifetime.WhenStartedAsync(stoppingToken);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.StatusReportIntervalMs), time);
        do
        {
            try
            {
                await bus.Publish(new CircuitBreakerStatusReported
                {
                    WorkerInstance = breakers.Instance, ReportedAt = time.GetUtcNow(), Breakers = breakers.Snapshot(),
                }, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogDebug("Breaker status not published: {Reason}", ex.GetType().Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

/// <summary>An operator's reset reaches every worker instance: each closes all its breakers.</summary>
public sealed class ResetCircuitBreakersConsumer(KmsCircuitBreakers breakers) : IConsumer<ResetCircuitBreakers>
{
    public Task Consume(ConsumeContext<ResetCircuitBreakers> context)
    {
        breakers.ResetAll();
        return Task.CompletedTask;
    }
}

/// <summary>A temporary queue per worker instance: fan-out, so no instance misses a reset.</summary>
public sealed class ResetCircuitBreakersConsumerDefinition : ConsumerDefinition<ResetCircuitBreakersConsumer>
{
    public ResetCircuitBreakersConsumerDefinition() => Endpoint(endpoint =>
    {
        endpoint.Name = "edge-signer-breaker-reset";
        endpoint.InstanceId = Guid.NewGuid().ToString("N")[..12];
        endpoint.Temporary = true;
    });
}
