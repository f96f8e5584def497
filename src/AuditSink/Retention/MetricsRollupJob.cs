using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.AuditSink.Data;
using EdgeSigner.ServiceDefaults;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.AuditSink.Retention;

/// <summary>
/// Rolls sign events up into <c>audit.metrics_minute</c> (PostgreSQL; <c>audit.rollup_metrics</c>) every 30 seconds:
/// the last few complete minutes, and any older minute that a late batch wrote into.
/// </summary>
public sealed class MetricsRollupJob(IServiceScopeFactory scopes, RollupWatermark watermark, TimeProvider time, ILogger<MetricsRollupJob> logger)
    : PeriodicJob(scopes, time, logger)
{
    private static readonly TimeSpan Lookback = TimeSpan.FromMinutes(3);

    protected override string What => "Metrics roll-up";
    protected override TimeSpan Interval { get; } = TimeSpan.FromSeconds(30);

    protected override Task RunAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        RollUpAsync(services.GetRequiredService<AuditDbContext>(), cancellationToken);

    public async Task<int> RollUpAsync(AuditDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var now = Time.GetUtcNow();
        var from = now - Lookback;
        if (watermark.TakeEarliest() is { } earliest && earliest < from)
        {
            from = earliest;
        }

        return await db.Database.SqlQuery<int>($"SELECT audit.rollup_metrics({from}, {now}) AS \"Value\"").SingleAsync(cancellationToken);
    }
}
