namespace EdgeSigner.Ingress.Signing;

/// <summary>
/// Removes Idempotency-Keys past their 24 hours, once an hour (any ingress may; the delete is idempotent), so
/// <c>ingress.idempotency_keys</c> holds about a day of keys instead of growing forever.
/// </summary>
public sealed class IdempotencyKeyPruner(IServiceScopeFactory scopes, TimeProvider time, ILogger<IdempotencyKeyPruner> logger) : BackgroundService
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
                var pruned = await scope.ServiceProvider.GetRequiredService<IdempotencyKeys>().PruneAsync(time.GetUtcNow(), stoppingToken);
                logger.LogDebug("Pruned {Count} idempotency keys past their lifetime", pruned);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Idempotency keys not pruned ({Reason}); the next run is in {Interval}", ex.GetType().Name, Interval);
            }
        }
    }
}
