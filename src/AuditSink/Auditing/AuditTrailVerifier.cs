using EdgeSigner.AuditSink.Data;
using EdgeSigner.Contracts.Audit;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.AuditSink.Auditing;

/// <summary>
/// Walks the audit trail's hash chain for the rows recorded in a period and reports the first row that does not
/// match. The same walk in SQL: <c>SELECT * FROM audit.verify_trail(from, to)</c>.
/// </summary>
public sealed class AuditTrailVerifier(AuditDbContext db)
{
    public async Task<TrailVerification> VerifyAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        // The table name is the store's own; the period is passed as parameters.
        var sql = $"SELECT * FROM {db.Table("audit_trail")} WHERE recorded_at >= {{0}} AND recorded_at < {{1}} ORDER BY seq, recorded_at";
        var first = await db.AuditTrail.FromSqlRaw(sql, from, to).AsNoTracking().FirstOrDefaultAsync(cancellationToken);
        if (first is null)
        {
            return Passed(0);
        }

        // Where the chain of this period starts: the row before it, a retention anchor, or the genesis.
        byte[]? expectedPrev = await PreviousHashAsync(first.Seq, cancellationToken);
        if (expectedPrev is null)
        {
            return Failed(0, first.Seq, first.EventId, "the row before this one is missing and no retention anchor covers it");
        }

        long checkedRows = 0;
        var expectedSeq = first.Seq;
        await foreach (var row in db.AuditTrail.FromSqlRaw(sql, from, to).AsNoTracking().AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            checkedRows++;
            if (row.Seq != expectedSeq)
            {
                return Failed(checkedRows, row.Seq, row.EventId, row.Seq > expectedSeq ? $"rows {expectedSeq} to {row.Seq - 1} are missing" : $"seq {row.Seq} appears more than once");
            }

            if (!row.PrevHash.AsSpan().SequenceEqual(expectedPrev))
            {
                return Failed(checkedRows, row.Seq, row.EventId, "prev_hash does not match the row before");
            }

            if (!AuditTrailChain.Hash(row.PrevHash, row).AsSpan().SequenceEqual(row.RowHash))
            {
                return Failed(checkedRows, row.Seq, row.EventId, "row_hash does not match the row's content");
            }

            expectedPrev = row.RowHash;
            expectedSeq = row.Seq + 1;
        }

        return Passed(checkedRows);
    }

    private static TrailVerification Passed(long rows) => new() { Verified = true, RowsChecked = rows };

    private static TrailVerification Failed(long rows, long seq, Guid eventId, string problem) =>
        new() { Verified = false, RowsChecked = rows, FirstBadSeq = seq, FirstBadEventId = eventId, Problem = problem };

    private async Task<byte[]?> PreviousHashAsync(long seq, CancellationToken cancellationToken)
    {
        if (seq == 1)
        {
            return AuditTrailChain.Genesis;
        }

        var before = await db.AuditTrail.Where(t => t.Seq == seq - 1).Select(t => t.RowHash).FirstOrDefaultAsync(cancellationToken);
        return before ?? await db.ChainAnchors.Where(a => a.Seq == seq - 1).Select(a => a.RowHash).FirstOrDefaultAsync(cancellationToken);
    }
}
