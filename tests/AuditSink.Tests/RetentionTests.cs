using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.AuditSink.Retention;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeSigner.AuditSink.Tests;

/// <summary>Partitions ahead of time, retention by dropping whole partitions, and the chain across a drop.</summary>
public sealed class RetentionTests : IAsyncLifetime
{
    private static readonly string[] ExpectedIn2040 =
    [
        "sign_events_p20400330", "sign_events_p20400331", "sign_events_p20400401", "sign_events_p20400402",
        "error_details_p20400330", "error_details_p20400331", "error_details_p20400401", "error_details_p20400402",
        "metrics_minute_p204003", "metrics_minute_p204004", "audit_trail_p204003", "audit_trail_p204004",
    ];

    private AuditDb _db = null!;

    public async Task InitializeAsync() => _db = await AuditDb.StartAsync();

    [Fact]
    public async Task Partitions_exist_ahead_of_time_once_the_sink_has_started()
    {
        var today = DateTime.UtcNow.Date;
        var daily = (await _db.QueryAsync("SELECT partition_name FROM audit.partitions('sign_events')")).Select(r => (string)r[0]!).ToList();
        for (var d = 0; d <= 7; d++)
        {
            Assert.Contains($"sign_events_p{today.AddDays(d):yyyyMMdd}", daily);
        }

        var monthly = (await _db.QueryAsync("SELECT partition_name FROM audit.partitions('audit_trail')")).Select(r => (string)r[0]!).ToList();
        Assert.Contains($"audit_trail_p{today:yyyyMM}", monthly);
        Assert.Contains($"audit_trail_p{today.AddMonths(1):yyyyMM}", monthly);
        Assert.Contains($"error_details_p{today:yyyyMMdd}", (await _db.QueryAsync("SELECT partition_name FROM audit.partitions('error_details')")).Select(r => (string)r[0]!));
        Assert.Contains($"metrics_minute_p{today:yyyyMM}", (await _db.QueryAsync("SELECT partition_name FROM audit.partitions('metrics_minute')")).Select(r => (string)r[0]!));
    }

    [Fact]
    public async Task The_documented_ensure_partitions_creates_every_audit_tables_partitions_for_a_range()
    {
        // A range years away from today, where no partition exists yet: 2040-03-30 to 2040-04-02 (UTC).
        var from = new DateTimeOffset(2040, 3, 30, 12, 0, 0, TimeSpan.Zero);
        var created = (await _db.QueryAsync("SELECT audit.ensure_partitions(@from, @to)", ("from", from), ("to", from.AddDays(3))))
            .Select(r => (string)r[0]!).ToList();

        Assert.Equal(ExpectedIn2040.Order(StringComparer.Ordinal), created.Order(StringComparer.Ordinal));
        var ranges = await _db.QueryAsync("SELECT range_start, range_end FROM audit.partitions('audit_trail') WHERE partition_name = 'audit_trail_p204004'");
        Assert.Equal((new DateTime(2040, 4, 1), new DateTime(2040, 5, 1)),
            (((DateTime)ranges.Single()[0]!).ToUniversalTime().Date, ((DateTime)ranges.Single()[1]!).ToUniversalTime().Date));
        Assert.Empty(await _db.QueryAsync("SELECT audit.ensure_partitions(@from, @to)", ("from", from), ("to", from.AddDays(3))));
    }

    [Fact]
    public async Task Retention_drops_exactly_the_expired_partitions_and_leaves_a_trail_that_still_verifies()
    {
        // The run happens "eight years and four months from today": the trail written until then is in writing order
        // after the rows the sink wrote at start, as the database clock keeps it in production.
        var start = DateTimeOffset.UtcNow;
        var now = new DateTimeOffset(start.UtcDateTime.Date.AddHours(12), TimeSpan.Zero).AddDays(8.35 * 365.25);

        // Request logs and error details across 100 days, one event a day, with an error on each.
        var events = Enumerable.Range(0, 100)
            .Select(d => (Guid.NewGuid(), SignEventWriter.FailureType,
                AuditDb.Log("acme", now.AddDays(-d), success: false, errorType: "kms_unavailable", errorMessage: "test")))
            .ToList();
        await _db.WriteSignEventsAsync(events);

        // The audit trail across eight years, oldest first (the chain is in writing order).
        foreach (var yearsAfterStart in new[] { 0.1, 0.5, 1.2, 1.45, 7.3, 8.3 })
        {
            var at = start.AddDays(yearsAfterStart * 365.25);
            await _db.AppendTrailAsync([AuditDb.Entry("flags.update", "edge_signer_enabled", at: at), AuditDb.Entry("tenants.create", "acme", at: at)], recordedAt: at);
        }

        var partitionsBefore = await PartitionsAsync();
        var result = await _db.InScopeAsync(sp => sp.GetRequiredService<RetentionJob>().RunOnceAsync(sp, now, CancellationToken.None));

        // Exactly the partitions whose whole range ended before each table's cutoff are gone; nothing else.
        var cutoffs = new Dictionary<string, DateTimeOffset>
        {
            ["sign_events"] = now.AddDays(-90), ["error_details"] = now.AddDays(-30), ["audit_trail"] = now.AddDays(-2557), ["metrics_minute"] = now.AddDays(-365),
        };
        var expectedDropped = partitionsBefore.Where(p => p.End <= cutoffs[p.Table]).Select(p => p.Name).OrderBy(n => n).ToList();
        Assert.Equal(expectedDropped, result.Dropped.OrderBy(n => n).ToList());
        Assert.Contains(expectedDropped, n => n.StartsWith("sign_events_p", StringComparison.Ordinal));
        Assert.Contains(expectedDropped, n => n.StartsWith("audit_trail_p", StringComparison.Ordinal));
        // (The run records itself in the trail by the database's clock: today's month, which it may have just dropped, comes back.)
        var recreated = $"audit_trail_p{DateTime.UtcNow:yyyyMM}";
        var partitionsAfter = await PartitionsAsync();
        Assert.Equal(partitionsBefore.Select(p => p.Name).Except(expectedDropped).Order(),
            partitionsAfter.Select(p => p.Name).Where(n => n != recreated && partitionsBefore.Any(b => b.Name == n)).Order());

        // What remains is what retention keeps.
        var oldestEvent = (DateTime)(await _db.QueryAsync("SELECT min(\"timestamp\") FROM audit.sign_events"))[0][0]!;
        Assert.True(oldestEvent >= cutoffs["sign_events"].UtcDateTime.Date, $"oldest remaining request log {oldestEvent:O}");
        Assert.Equal(91L, (long)(await _db.QueryAsync("SELECT count(*) FROM audit.sign_events"))[0][0]!); // days 0..90 (the cutoff's day is kept whole)
        Assert.Equal(31L, (long)(await _db.QueryAsync("SELECT count(*) FROM audit.error_details"))[0][0]!);

        // The chain still verifies from the first remaining row, through the anchor retention kept.
        var verification = await _db.InScopeAsync(sp => sp.GetRequiredService<AuditTrailVerifier>().VerifyAsync(DateTimeOffset.MinValue, now.AddYears(1), CancellationToken.None));
        Assert.True(verification.Verified, verification.Problem);
        var sql = await _db.QueryAsync("SELECT verified, rows_checked FROM audit.verify_trail('0001-01-01', '9999-12-31')");
        Assert.Equal(true, sql[0][0]);
        Assert.Equal(verification.RowsChecked, sql[0][1]);
        Assert.NotEmpty(await _db.QueryAsync("SELECT seq FROM audit.chain_anchors"));

        // The run itself is in the audit trail, naming what it dropped.
        var runs = await _db.QueryAsync("SELECT after FROM audit.audit_trail WHERE category = 'retention'");
        Assert.Contains(runs, r => ((string)r[0]!).Contains(expectedDropped[0], StringComparison.Ordinal));
    }

    private async Task<List<(string Table, string Name, DateTimeOffset End)>> PartitionsAsync()
    {
        var all = new List<(string, string, DateTimeOffset)>();
        foreach (var table in new[] { "sign_events", "error_details", "metrics_minute", "audit_trail" })
        {
            foreach (var row in await _db.QueryAsync("SELECT partition_name, range_end FROM audit.partitions(@t)", ("t", table)))
            {
                all.Add((table, (string)row[0]!, new DateTimeOffset((DateTime)row[1]!, TimeSpan.Zero)));
            }
        }

        return all;
    }

    public async Task DisposeAsync() => await _db.DisposeAsync();
}
