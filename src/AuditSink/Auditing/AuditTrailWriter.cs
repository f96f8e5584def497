using System.Text.Json;
using EdgeSigner.AuditSink.Data;
using EdgeSigner.Contracts.Admin;
using EdgeSigner.Contracts.Breakers;
using static EdgeSigner.ServiceDefaults.TextLimits;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.AuditSink.Auditing;

/// <summary>
/// Appends to the hash-chained audit trail. Writers are serialised by the store's <see cref="IChainGate"/> (a
/// PostgreSQL advisory lock held for the transaction; in embedded mode, a process lock), so every row gets the next
/// <c>seq</c> and chains to the row before. Event ids already in the trail (redeliveries) are skipped inside the
/// same transaction.
/// </summary>
public sealed class AuditTrailWriter(AuditDbContext db, IChainGate gate)
{

    public Task<int> WriteAsync(IReadOnlyList<AdminActionRecorded> actions, CancellationToken cancellationToken) =>
        AppendAsync(actions.Select(a => new TrailEntry(a.EventId, a.OccurredAt,
            a.Action.StartsWith("security.", StringComparison.Ordinal) ? TrailEntry.SecurityEvent : TrailEntry.AdminAction, Truncate(a.Actor, 128),
            Truncate(a.SourceAddress, 64), Truncate(a.Action, 256), Truncate(a.Target, 256), Truncate(a.Outcome, 16), a.StatusCode,
            a.Before, a.After)).ToList(), cancellationToken);

    public Task<int> WriteAsync(IReadOnlyList<CircuitBreakerStateChanged> transitions, CancellationToken cancellationToken) =>
        AppendAsync(transitions.Select(t => new TrailEntry(t.EventId, t.OccurredAt, TrailEntry.BreakerTransition,
            Truncate(t.WorkerInstance, 128), "worker", $"breaker.{t.To.ToLowerInvariant()}", Truncate($"{t.KmsKeyId}@{t.Region}", 256),
            Truncate(t.Reason, 16), 0,
            JsonSerializer.Serialize(new { state = t.From, failures_in_window = t.FailuresInWindow }),
            JsonSerializer.Serialize(new { state = t.To, reason = t.Reason }))).ToList(), cancellationToken);

    /// <summary>
    /// Appends <paramref name="entries"/> in order; returns how many were new. <paramref name="recordedAt"/> is for
    /// tests and seeding only: normally the database's clock (PostgreSQL) or the host's clock (embedded) decides.
    /// </summary>
    public async Task<int> AppendAsync(IReadOnlyList<TrailEntry> entries, CancellationToken cancellationToken, DateTimeOffset? recordedAt = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return 0;
        }

        using var held = await gate.EnterAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = await gate.RecordingTimeAsync(db, recordedAt, cancellationToken);

        var ids = entries.Select(e => e.EventId).Distinct().ToList();
        var existing = (await db.AuditTrail.Where(t => ids.Contains(t.EventId)).Select(t => t.EventId).ToListAsync(cancellationToken)).ToHashSet();
        var last = await db.AuditTrail.OrderByDescending(t => t.Seq).Select(t => new { t.Seq, t.RowHash }).FirstOrDefaultAsync(cancellationToken)
            ?? await db.ChainAnchors.OrderByDescending(a => a.Seq).Select(a => new { a.Seq, a.RowHash }).FirstOrDefaultAsync(cancellationToken);
        var (seq, prev) = last is null ? (0L, AuditTrailChain.Genesis) : (last.Seq, last.RowHash);

        var added = 0;
        foreach (var entry in entries)
        {
            if (!existing.Add(entry.EventId))
            {
                continue;
            }

            var row = new AuditTrailRecord
            {
                Seq = ++seq,
                EventId = entry.EventId,
                OccurredAt = AuditTrailChain.ToMicroseconds(entry.OccurredAt),
                Category = entry.Category,
                Actor = entry.Actor,
                SourceAddress = entry.SourceAddress,
                Action = entry.Action,
                Target = entry.Target,
                Outcome = entry.Outcome,
                StatusCode = entry.StatusCode,
                Before = entry.Before,
                After = entry.After,
                RecordedAt = AuditTrailChain.ToMicroseconds(now),
                PrevHash = prev,
            };
            row.RowHash = AuditTrailChain.Hash(prev, row);
            prev = row.RowHash;
            db.AuditTrail.Add(row);
            added++;
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return added;
    }

}
