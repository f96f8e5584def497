using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.AuditSink.Data;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.AuditSink.Retention;

/// <summary>
/// Rolls sign events up into <c>audit.metrics_minute</c> (PostgreSQL; <c>audit.rollup_metrics</c>) every 30 seconds:
/// the last few complete minutes, and any older minute that a late batch wrote into.
/// </summary>
public sealed class MetricsRollupJob(IServiceScopeFactory scopes, RollupWatermark watermark, TimeProvider time, ILogger<MetricsRollupJob> logger)
    : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Lookback = TimeSpan.FromMinutes(3);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await RollUpAsync(scope.ServiceProvider.GetRequiredService<AuditDbContext>(), stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Metrics roll-up failed ({Reason}); it runs again in {Seconds} s", ex.GetType().Name, Interval.TotalSeconds);
            }
        }
    }

    public async Task<int> RollUpAsync(AuditDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var now = time.GetUtcNow();
        var from = now - Lookback;
        if (watermark.TakeEarliest() is { } earliest && earliest < from)
        {
            from = earliest;
        }

        return await db.Database.SqlQuery<int>($"SELECT audit.rollup_metrics({from}, {now}) AS \"Value\"").SingleAsync(cancellationToken);
    }
}
