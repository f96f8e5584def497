using EdgeSigner.AuditSink.Data;
using EdgeSigner.ServiceDefaults.Partitions;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.AuditSink.Retention;

/// <summary>How the audit store applies its retention periods; one implementation per store, chosen at registration.</summary>
public interface IAuditRetention
{
    /// <summary>One run as of <paramref name="now"/>: partitions created up to <paramref name="ahead"/>, data past each table's cutoff gone.</summary>
    Task<RetentionJob.RunResult> RunAsync(AuditDbContext db, DateTimeOffset now, DateTimeOffset ahead, IReadOnlyDictionary<string, DateTimeOffset> cutoffs,
        CancellationToken cancellationToken);

    /// <summary>The time the run's own trail row is recorded at: null for the store's clock.</summary>
    DateTimeOffset? TrailTime(DateTimeOffset now);
}

/// <summary>
/// PostgreSQL: creates the partitions ahead of time and drops whole partitions whose time range ended before the
/// cutoff (never a bulk DELETE), one sink instance at a time; before an audit-trail partition goes, its last row's
/// hash is kept as a chain anchor, so the rest still verifies.
/// </summary>
public sealed class PartitionedAuditRetention : IAuditRetention
{
    public async Task<RetentionJob.RunResult> RunAsync(AuditDbContext db, DateTimeOffset now, DateTimeOffset ahead,
        IReadOnlyDictionary<string, DateTimeOffset> cutoffs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var run = await PartitionRetention.RunAsync(db.Database, new PartitionRetention.Plan(AuditDbContext.Schema, RetentionJob.RetentionLockKey, now, ahead,
            cutoffs, async expired =>
            {
                if (expired.Table == "audit_trail")
                {
                    // Keep where the chain continues: the last row of what is dropped.
                    var anchor = "INSERT INTO audit.chain_anchors (seq, row_hash, dropped_partition, dropped_at) " +
                        "SELECT seq, row_hash, {0}, {1} FROM " + expired.Quoted + " ORDER BY seq DESC LIMIT 1 ON CONFLICT (seq) DO NOTHING";
                    await db.Database.ExecuteSqlRawAsync(anchor, [expired.Name, now], cancellationToken);
                }
            }), cancellationToken);
        // null: another sink instance is running it
        return run is null ? new RetentionJob.RunResult([], [], Ran: false) : new RetentionJob.RunResult(run.Created, run.Dropped, Ran: true);
    }

    public DateTimeOffset? TrailTime(DateTimeOffset now) => null;
}

/// <summary>
/// The embedded SQLite store has no partitions: a DELETE per table past the same cutoffs, keeping the chain anchor of
/// the last trail row it deletes. (Times are stored as ISO text with offset +00:00, so they compare correctly as text.)
/// </summary>
public sealed class EmbeddedAuditRetention : IAuditRetention
{
    public async Task<RetentionJob.RunResult> RunAsync(AuditDbContext db, DateTimeOffset now, DateTimeOffset ahead,
        IReadOnlyDictionary<string, DateTimeOffset> cutoffs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(cutoffs);
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
        return new RetentionJob.RunResult([], deleted, Ran: true);
    }

    /// <summary>The run's own time: the embedded store has no clock of its own.</summary>
    public DateTimeOffset? TrailTime(DateTimeOffset now) => now;
}
