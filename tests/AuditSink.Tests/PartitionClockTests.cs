using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.AuditSink.Retention;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EdgeSigner.AuditSink.Tests;

/// <summary>
/// The audit store at the dates that break partitioned tables: the last second of a month, New Year's Eve, 28 and
/// 29 February of a leap year, and the first day of a month with last month's backlog still arriving. Each case
/// runs the sink at a pinned clock: it writes events (each into its own day's partition), appends to the trail
/// and rolls the minutes up through <see cref="MetricsRollupJob"/>, then reads every row back.
/// </summary>
[Collection(SinkCounters.Collection)]
public sealed class PartitionClockTests
{
    public static TheoryData<string, string[]> Clocks => new()
    {
        // sink clock                  event times (the roll-up covers them all)
        { "2026-12-01T00:01:30Z", ["2026-11-30T23:59:59.999Z", "2026-12-01T00:00:00.001Z"] },
        { "2027-01-01T00:01:30Z", ["2026-12-31T23:59:59.500Z", "2027-01-01T00:00:00.000Z"] },
        { "2028-02-29T12:00:00Z", ["2028-02-28T23:59:59.000Z", "2028-02-29T00:00:01.000Z", "2028-02-29T11:58:00.000Z"] },
        { "2028-03-01T00:01:30Z", ["2028-02-29T23:59:59.999Z", "2028-03-01T00:00:00.000Z"] },
        { "2027-04-01T00:10:00Z", ["2027-03-25T09:00:00Z", "2027-03-28T17:30:00Z", "2027-03-31T23:59:00Z", "2027-04-01T00:05:00Z"] },
    };

    [Theory]
    [MemberData(nameof(Clocks))]
    public async Task Events_trail_and_rollups_land_in_the_partition_of_their_own_time(string clock, string[] eventTimes)
    {
        var now = DateTimeOffset.Parse(clock, System.Globalization.CultureInfo.InvariantCulture);
        var times = eventTimes.Select(t => DateTimeOffset.Parse(t, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        await using var db = await AuditDb.StartAsync(clock: new FakeTimeProvider(now));

        var events = times.Select(t => (Guid.NewGuid(), SignEventWriter.SuccessType, AuditDb.Log("acme", t, totalMs: 30))).ToList();
        Assert.Equal(events.Count, await db.WriteSignEventsAsync(events));
        foreach (var at in times)
        {
            await db.AppendTrailAsync([AuditDb.Entry("flags.update", "edge_signer_enabled", at: at)], recordedAt: at);
        }

        // The roll-up job at the pinned clock: its look-back and the late events' watermark reach every event.
        var rolled = await db.InScopeAsync(sp => sp.GetRequiredService<MetricsRollupJob>()
            .RollUpAsync(sp.GetRequiredService<Data.AuditDbContext>(), CancellationToken.None));
        Assert.Equal(times.Select(Minute).Distinct().Count(), rolled);

        // Every row is back, each in the partition named for its own day (events) or month (trail, roll-ups).
        var stored = await db.QueryAsync("SELECT tableoid::regclass::text, \"timestamp\" FROM audit.sign_events ORDER BY \"timestamp\"");
        Assert.Equal(times.Order().Select(t => ($"audit.sign_events_p{t.UtcDateTime:yyyyMMdd}", t.UtcDateTime)),
            stored.Select(r => ((string)r[0]!, (DateTime)r[1]!)));
        var trail = await db.QueryAsync("SELECT tableoid::regclass::text, recorded_at FROM audit.audit_trail WHERE action = 'flags.update' ORDER BY seq");
        Assert.Equal(times.Select(t => $"audit.audit_trail_p{t.UtcDateTime:yyyyMM}"), trail.Select(r => (string)r[0]!));
        var minutes = await db.QueryAsync("SELECT tableoid::regclass::text, minute, requests FROM audit.metrics_minute ORDER BY minute");
        Assert.Equal(times.GroupBy(Minute).OrderBy(g => g.Key).Select(g => ($"audit.metrics_minute_p{g.Key:yyyyMM}", g.Key, g.Count())),
            minutes.Select(r => ((string)r[0]!, (DateTime)r[1]!, (int)r[2]!)));

        // The chain runs across the month (or year) boundary and still verifies.
        var verified = await db.QueryAsync("SELECT verified, problem FROM audit.verify_trail('2000-01-01', @to)", ("to", now.AddDays(1)));
        Assert.True((bool)verified[0][0]!, verified[0][1] as string);
    }

    [Fact]
    public async Task An_event_past_its_retention_is_counted_and_not_written_and_error_details_keep_their_shorter_period()
    {
        var now = new DateTimeOffset(2027, 7, 1, 0, 5, 0, TimeSpan.Zero);
        await using var db = await AuditDb.StartAsync(clock: new FakeTimeProvider(now));
        var expired = Failure(now.AddDays(-92));   // sign_events keep 90 days: its day is gone
        var oldError = Failure(now.AddDays(-40));  // kept as a request log, but past error details' 30 days
        var recent = Failure(now.AddDays(-1));

        var result = await db.InScopeAsync(sp => sp.GetRequiredService<SignEventWriter>().WriteAsync([expired, oldError, recent], CancellationToken.None));

        Assert.Equal(1, result.Expired);
        Assert.Equal(
            [(oldError.Item1, false), (recent.Item1, true)],
            (await db.QueryAsync(
                "SELECT e.event_id, d.event_id IS NOT NULL FROM audit.sign_events e LEFT JOIN audit.error_details d USING (event_id, \"timestamp\") ORDER BY e.\"timestamp\""))
            .Select(r => ((Guid)r[0]!, (bool)r[1]!)));
        Assert.Empty(await db.QueryAsync("SELECT partition_name FROM audit.partitions('sign_events') WHERE range_end <= @cutoff", ("cutoff", now.AddDays(-90))));

        var expiredSeries = await Eventually.GetAsync(
            async () => (await SinkCounters.ByResultAsync(db.Pipeline.AuditSink!.Url)).GetValueOrDefault("expired"),
            total => total >= 1, what: "the expired-event counter");
        Assert.Equal(1, expiredSeries);
    }

    private static (Guid, string, EdgeSignerLog) Failure(DateTimeOffset at) =>
        (Guid.NewGuid(), SignEventWriter.FailureType, AuditDb.Log("acme", at, success: false, errorType: "signing_failed", errorMessage: "test"));

    private static DateTime Minute(DateTimeOffset t) => new(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerMinute), DateTimeKind.Utc);
}
