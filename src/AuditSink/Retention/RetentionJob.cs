using System.Text.Json;
using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.AuditSink.Data;
using EdgeSigner.ServiceDefaults.Partitions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EdgeSigner.AuditSink.Retention;

/// <summary>
/// Keeps the audit store within its retention periods. In PostgreSQL: creates the partitions ahead of time and drops
/// whole partitions whose time range ended before the retention cutoff (never a bulk DELETE); before an
/// audit-trail partition goes, its last row's hash is kept as a chain anchor, so the rest still verifies. The
/// embedded SQLite store deletes rows past the same cutoffs. Every run is itself recorded in the audit trail.
/// </summary>
public sealed class RetentionJob(IServiceScopeFactory scopes, IOptions<RetentionOptions> options, TimeProvider time, ILogger<RetentionJob> logger)
    : BackgroundService
{
    public const long RetentionLockKey = 0x45_64_67_65_53_69_67_02;

    public sealed record RunResult(IReadOnlyList<string> Created, IReadOnlyList<string> Dropped, bool Ran);

    /// <summary>The first run happens before the sink consumes anything, so partitions exist ahead from the start.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await RunScheduledAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(options.Value.RunIntervalMinutes), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await RunScheduledAsync(stoppingToken);
        }
    }

    private async Task RunScheduledAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await RunOnceAsync(scope.ServiceProvider, time.GetUtcNow(), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError("Retention run failed ({Reason}); it runs again in {Minutes} min", ex.GetType().Name, options.Value.RunIntervalMinutes);
        }
    }

    /// <summary>One run as of <paramref name="now"/>: the job calls it on its schedule, tests with a chosen clock.</summary>
    public async Task<RunResult> RunOnceAsync(IServiceProvider services, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        var db = services.GetRequiredService<AuditDbContext>();
        var o = options.Value;
        var cutoffs = new Dictionary<string, DateTimeOffset>
        {
            ["sign_events"] = now.AddDays(-o.RequestLogDays),
            ["error_details"] = now.AddDays(-o.ErrorDetailDays),
            ["metrics_minute"] = now.AddDays(-o.MetricsDays),
            ["audit_trail"] = now.AddDays(-o.AuditTrailDays),
        };
        var result = db.IsPostgres
            ? await RunPostgresAsync(db, now, now.AddDays(o.PartitionsAheadDays), cutoffs, cancellationToken)
            : await RunEmbeddedAsync(db, now, cutoffs, cancellationToken);
        if (!result.Ran)
        {
            return result;
        }

        await services.GetRequiredService<AuditTrailWriter>().AppendAsync(
        [
            new TrailEntry(Guid.NewGuid(), now, TrailEntry.Retention, "audit-sink", "local", "retention.run", null, "allowed", 0, null,
                JsonSerializer.Serialize(new
                {
                    created = result.Created,
                    dropped = result.Dropped,
                    cutoffs = cutoffs.ToDictionary(c => c.Key, c => c.Value.ToString("O")),
                })),
        ], cancellationToken, recordedAt: db.IsPostgres ? null : now);
        if (result.Dropped.Count > 0)
        {
            logger.LogInformation("Retention dropped {Dropped}", string.Join(", ", result.Dropped));
        }

        return result;
    }

    private static async Task<RunResult> RunPostgresAsync(
        AuditDbContext db, DateTimeOffset now, DateTimeOffset ahead, Dictionary<string, DateTimeOffset> cutoffs, CancellationToken cancellationToken)
    {
        var run = await PartitionRetention.RunAsync(db.Database, AuditDbContext.Schema, RetentionLockKey, now, ahead, cutoffs,
            async expired =>
            {
                if (expired.Table == "audit_trail")
                {
                    // Keep where the chain continues: the last row of what is dropped.
                    var anchor = "INSERT INTO audit.chain_anchors (seq, row_hash, dropped_partition, dropped_at) " +
                        "SELECT seq, row_hash, {0}, {1} FROM " + expired.Quoted + " ORDER BY seq DESC LIMIT 1 ON CONFLICT (seq) DO NOTHING";
                    await db.Database.ExecuteSqlRawAsync(anchor, [expired.Name, now], cancellationToken);
                }
            }, cancellationToken);
        return run is null ? new RunResult([], [], Ran: false) : new RunResult(run.Created, run.Dropped, Ran: true); // null: another sink instance runs it
    }

    private static async Task<RunResult> RunEmbeddedAsync(
        AuditDbContext db, DateTimeOffset now, Dictionary<string, DateTimeOffset> cutoffs, CancellationToken cancellationToken)
    {
        // SQLite has no partitions: the simplest correct mechanism is a DELETE per table past the same cutoffs.
        // (Times are stored as ISO text with offset +00:00, so they compare correctly as text.)
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var deleted = new List<string>
        {
            $"sign_events: {await db.Database.ExecuteSqlRawAsync("DELETE FROM sign_events WHERE \"timestamp\" < {0}", [cutoffs["sign_events"]], cancellationToken)} rows",
            $"error_details: {await db.Database.ExecuteSqlRawAsync("DELETE FROM error_details WHERE \"timestamp\" < {0}", [cutoffs["error_details"]], cancellationToken)} rows",
            $"metrics_minute: {await db.Database.ExecuteSqlRawAsync("DELETE FROM metrics_minute WHERE minute < {0}", [cutoffs["metrics_minute"]], cancellationToken)} rows",
        };
        var lastExpired = await db.AuditTrail.FromSqlRaw("SELECT * FROM audit_trail WHERE recorded_at < {0} ORDER BY seq DESC LIMIT 1", cutoffs["audit_trail"])
            .AsNoTracking().FirstOrDefaultAsync(cancellationToken);
        if (lastExpired is not null)
        {
            db.ChainAnchors.Add(new ChainAnchorRecord { Seq = lastExpired.Seq, RowHash = lastExpired.RowHash, DroppedPartition = "embedded", DroppedAt = now });
            await db.SaveChangesAsync(cancellationToken);
            deleted.Add($"audit_trail: {await db.AuditTrail.Where(t => t.Seq <= lastExpired.Seq).ExecuteDeleteAsync(cancellationToken)} rows");
        }

        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return new RunResult([], deleted, Ran: true);
    }
}
