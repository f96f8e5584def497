using EdgeSigner.Ingress.Batches;
using EdgeSigner.Ingress.Signing;

namespace EdgeSigner.Ingress.Data;

/// <summary>
/// Once an hour, removes what outlived its lifetime: Idempotency-Keys after 24 hours, batches and their results after
/// seven days. Any ingress may run it; the deletes are idempotent.
/// </summary>
public sealed class IngressPruner(IServiceScopeFactory scopes, TimeProvider time, ILogger<IngressPruner> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var now = time.GetUtcNow();
                var keys = await scope.ServiceProvider.GetRequiredService<IdempotencyKeys>().PruneAsync(now, stoppingToken);
                var batches = await scope.ServiceProvider.GetRequiredService<BatchStore>().PruneAsync(now, stoppingToken);
                logger.LogDebug("Pruned {Keys} idempotency keys and {Batches} batches past their lifetime", keys, batches);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Pruning failed ({Reason}); the next run is in {Interval}", ex.GetType().Name, Interval);
            }
        }
    }
}
