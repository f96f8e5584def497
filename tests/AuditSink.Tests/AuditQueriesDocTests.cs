using System.Text.RegularExpressions;
using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.AuditSink.Reporting;
using EdgeSigner.Contracts.Events;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EdgeSigner.AuditSink.Tests;

/// <summary>
/// Runs every query of docs/audit-queries.md against a seeded database and checks its answer against a count made
/// here from the seed; the compliance report (C# and SQL) is checked the same way. Everything runs at one pinned
/// instant, <see cref="Now"/>: the sink's clock, the seed, and the queries, whose <c>now()</c> is given that instant
/// as a parameter. Nothing reads the real date, so the suite gives the same answer on every day of the year.
/// </summary>
public sealed partial class AuditQueriesDocTests : IAsyncLifetime
{
    /// <summary>
    /// Six hours into the first day of a month (a Monday): last week's events lie in the month before, so the
    /// roll-up writes into a month the database had no partition for when it was created: the case that turned
    /// the suite red when the month changed. This week's events are in the new month.
    /// </summary>
    public static readonly DateTimeOffset Now = new(2027, 3, 1, 6, 0, 0, TimeSpan.Zero);

    private AuditDb _db = null!;
    private readonly List<(Guid EventId, string Type, EdgeSignerLog Log)> _events = [];
    private DateTimeOffset _lastWeekStart;
    private DateTimeOffset _thisWeekStart;
    private Dictionary<string, string> _queries = null!;

    public async Task InitializeAsync()
    {
        _db = await AuditDb.StartAsync(clock: new FakeTimeProvider(Now));
        _queries = ReadQueries();
        _thisWeekStart = new DateTimeOffset((DateTime)(await _db.QueryAsync("SELECT date_trunc('week', @now::timestamptz)::timestamp", ("now", Now)))[0][0]!, TimeSpan.Zero);
        _lastWeekStart = _thisWeekStart.AddDays(-7);

        // acme last week: three signatures (one a fallback in eu-central-1), one failure; acme this week: two; globex last week: one.
        Request("acme", _lastWeekStart.AddDays(1).AddHours(9), region: "eu-west-1", totalMs: 20);
        Request("acme", _lastWeekStart.AddDays(1).AddHours(10), region: "eu-central-1", fallback: true, errorType: "kms_throttled", totalMs: 40);
        Request("acme", _lastWeekStart.AddDays(2).AddHours(11), region: "eu-west-1", totalMs: 30);
        Request("acme", _lastWeekStart.AddDays(3).AddHours(12), region: "eu-central-1", failed: true, errorType: "signing_failed", totalMs: 5000);
        Request("globex", _lastWeekStart.AddDays(4).AddHours(13), region: "us-east-1", totalMs: 25);
        Request("acme", _thisWeekStart.AddHours(1), region: "eu-west-1", totalMs: 22);
        Request("acme", _thisWeekStart.AddHours(2), region: "eu-west-1", totalMs: 24);
        await _db.WriteSignEventsAsync(_events);

        await _db.AppendTrailAsync(
        [
            AuditDb.Entry("flags.update", "edge_signer_enabled", before: "{\"v\":false}", after: "{\"v\":true}", at: Now),
            AuditDb.Entry("tenants.disable", "globex", before: "{\"disabled\":false}", after: "{\"disabled\":true}", source: "10.0.0.8", at: Now),
            AuditDb.Entry("POST /admin/flags", outcome: "denied", actor: "anonymous", source: "203.0.113.9", at: Now),
            AuditDb.Entry("flags.emergency_shutdown", "edge_signer", at: Now),
            AuditDb.Entry("POST /admin/tenants", outcome: "denied", actor: "anonymous", source: "203.0.113.9", at: Now),
            AuditDb.Entry("GET /admin/flags", outcome: "denied", actor: "anonymous", source: "198.51.100.1", at: Now),
            AuditDb.Entry("flags.update", "acme/edge_signer_enabled", outcome: "rejected", at: Now),
        ], recordedAt: Now);
        await _db.QueryAsync("SELECT audit.rollup_metrics(@from, @now)", ("from", _lastWeekStart.AddDays(-1)), ("now", Now));
    }

    private void Request(string tenant, DateTimeOffset at, string region, double totalMs, bool fallback = false, bool failed = false, string? errorType = null)
    {
        var requestId = Guid.NewGuid();
        var mode = fallback || failed ? "central-fallback" : "edge-tbs+remote-es256";
        _events.Add((Guid.NewGuid(), SignEventWriter.AttemptType, AuditDb.Log(tenant, at, requestId, region, mode, totalMs: totalMs)));
        _events.Add((Guid.NewGuid(), failed ? SignEventWriter.FailureType : SignEventWriter.SuccessType,
            AuditDb.Log(tenant, at.AddMilliseconds(totalMs), requestId, region, mode, success: !failed, fallback: fallback, errorType: errorType,
                errorMessage: errorType is null ? null : $"because {errorType}", totalMs: totalMs)));
    }

    private IEnumerable<EdgeSignerLog> Outcomes => _events.Where(e => e.Type != SignEventWriter.AttemptType).Select(e => e.Log);

    [Fact]
    public async Task Every_signature_by_a_tenant_last_week()
    {
        var rows = await RunAsync("signatures-by-tenant-last-week");

        var expected = Outcomes.Where(l => l.Success && l.TenantId == "acme" && l.Timestamp >= _lastWeekStart && l.Timestamp < _thisWeekStart)
            .Select(l => l.RequestId).Order().ToList();
        Assert.Equal(3, expected.Count);
        Assert.Equal(expected, rows.Select(r => (Guid)r[1]!).Order().ToList());
    }

    [Fact]
    public async Task Every_admin_action_on_flags()
    {
        var rows = await RunAsync("flag-admin-actions");

        Assert.Equal(["flags.update", "flags.emergency_shutdown", "flags.update"], rows.Select(r => (string)r[3]!));
        Assert.Equal(["allowed", "allowed", "rejected"], rows.Select(r => (string)r[5]!));
        Assert.Equal("{\"v\":true}", rows[0][7]);
    }

    [Fact]
    public async Task Fallback_rate_by_region_per_day()
    {
        var rows = await RunAsync("fallback-rate-by-region-per-day");

        var expected = Outcomes.Where(l => l.Success)
            .GroupBy(l => (l.Timestamp.UtcDateTime.Date, l.Region))
            .Select(g => (g.Key.Date, g.Key.Region, (long)g.Count(), Math.Round(g.Average(l => l.FallbackTriggered ? 1.0 : 0.0), 4)))
            .OrderBy(x => x.Date).ThenBy(x => x.Region, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, rows.Select(r => (((DateTime)r[0]!).Date, (string)r[1]!, (long)r[2]!, (double)(decimal)r[3]!)).ToList());
        Assert.Contains(expected, x => x.Item4 == 1.0);
    }

    [Fact]
    public async Task Requests_that_failed_and_why()
    {
        var rows = await RunAsync("failed-requests-and-why");

        var failure = Assert.Single(rows);
        var expected = Outcomes.Single(l => !l.Success);
        Assert.Equal((expected.RequestId, "signing_failed", "because signing_failed"), ((Guid)failure[2]!, (string)failure[3]!, (string)failure[4]!));
    }

    [Fact]
    public async Task Who_disabled_a_tenant()
    {
        var row = Assert.Single(await RunAsync("who-disabled-tenant"));

        Assert.Equal(("admin", "10.0.0.8", "{\"disabled\":true}"), ((string)row[1]!, (string)row[2]!, (string)row[4]!));
    }

    [Fact]
    public async Task Denied_admin_calls_by_source_address()
    {
        var rows = await RunAsync("denied-admin-calls");

        Assert.Equal([("203.0.113.9", 2L), ("198.51.100.1", 1L)], rows.Select(r => ((string)r[0]!, (long)r[1]!)));
    }

    [Fact]
    public async Task Latency_by_region_from_the_rollups()
    {
        var rows = await RunAsync("latency-by-region");

        var expected = Outcomes.GroupBy(l => (l.Region, l.SigningMode)).Select(g => (g.Key.Region, g.Key.SigningMode, (long)g.Count()))
            .OrderBy(x => x.Region, StringComparer.Ordinal).ThenBy(x => x.SigningMode, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, rows.Select(r => ((string)r[0]!, (string)r[1]!, (long)r[2]!)).ToList());
        var failedRow = rows.Single(r => (string)r[0]! == "eu-central-1");
        Assert.Equal(5000, (double)failedRow[3]!); // the slowest minute's p95 is the failed request's 5 s
    }

    [Fact]
    public async Task The_trail_verifies()
    {
        var row = Assert.Single(await RunAsync("verify-trail"));

        Assert.Equal(true, row[0]);
        Assert.True((long)row[1]! >= 7);
    }

    [Fact]
    public async Task The_compliance_report_matches_a_hand_count_in_sql_and_in_csharp()
    {
        var period = Now.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
        var monthStart = new DateTimeOffset(new DateTime(Now.Year, Now.Month, 1, 0, 0, 0, DateTimeKind.Utc));
        var inMonth = _events.Where(e => e.Log.Timestamp >= monthStart && e.Log.Timestamp < monthStart.AddMonths(1)).ToList();
        var total = inMonth.Select(e => e.Log.RequestId).Distinct().LongCount();
        var succeeded = inMonth.LongCount(e => e.Type == SignEventWriter.SuccessType);
        var failed = inMonth.LongCount(e => e.Type == SignEventWriter.FailureType);
        var fallbacks = inMonth.LongCount(e => e.Type == SignEventWriter.SuccessType && e.Log.FallbackTriggered);
        const long denied = 3; // every trail entry was written at Now, in this month
        Assert.NotEmpty(inMonth); // this week's events are in the new month
        Assert.Contains(_events, e => e.Log.Timestamp < monthStart); // and last week's in the month before
        var errorRate = total == 0 ? 0 : 100.0 * failed / total;
        var status = failed > 0 && errorRate > 1.0 ? "NON_COMPLIANT" : "COMPLIANT";

        var sql = Assert.Single(await RunAsync("compliance-report"));
        Assert.Equal((period, total, succeeded, failed, denied, 0L, true, status),
            ((string)sql[0]!, (long)sql[1]!, (long)sql[2]!, (long)sql[3]!, (long)sql[5]!, (long)sql[7]!, (bool)sql[8]!, (string)sql[9]!));
        Assert.Equal(succeeded == 0 ? 0 : (double)fallbacks / succeeded, (double)sql[4]!, 10);
        Assert.Equal(errorRate, (double)sql[6]!, 10);

        var report = await _db.InScopeAsync(sp => sp.GetRequiredService<ComplianceReporter>().ReportAsync(period, CancellationToken.None));
        Assert.Equal((period, total, succeeded, failed, denied, 0L, true, status),
            (report.Period, report.TotalRequests, report.SuccessfulSigns, report.FailedSigns, report.SecurityIncidents, report.AttemptsWithoutOutcome,
             report.TrailVerified, report.ComplianceStatus));
        Assert.Equal((double)sql[4]!, report.FallbackRate, 10);
    }

    [Fact]
    public async Task An_attempt_without_an_outcome_makes_the_month_non_compliant()
    {
        await _db.WriteSignEventsAsync([(Guid.NewGuid(), SignEventWriter.AttemptType, AuditDb.Log("acme", Now.AddMinutes(-6)))]);

        var sql = Assert.Single(await RunAsync("compliance-report"));

        Assert.Equal((1L, "NON_COMPLIANT"), ((long)sql[7]!, (string)sql[9]!));
    }

    [Fact]
    public async Task Retention_runs_are_listed()
    {
        var runs = await RunAsync("retention-runs");

        Assert.NotEmpty(runs);
        Assert.Contains("\"dropped\"", (string)runs[0][1]!, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_query_in_the_document_is_checked_here()
    {
        var tested = typeof(AuditQueriesDocTests).GetMethods().SelectMany(m => m.GetCustomAttributesData())
            .Count(a => a.AttributeType == typeof(FactAttribute));
        Assert.Equal(["compliance-report", "denied-admin-calls", "failed-requests-and-why", "fallback-rate-by-region-per-day", "flag-admin-actions",
            "latency-by-region", "retention-runs", "signatures-by-tenant-last-week", "verify-trail", "who-disabled-tenant"], _queries.Keys.Order());
        Assert.True(tested > _queries.Count);
    }

    /// <summary>Runs a query of the document as written, its <c>now()</c> being <see cref="Now"/>.</summary>
    private Task<List<object?[]>> RunAsync(string id) =>
        _db.QueryAsync(_queries[id].Replace("now()", "@now::timestamptz", StringComparison.Ordinal), ("now", Now));

    private static Dictionary<string, string> ReadQueries()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "docs", "audit-queries.md")))
        {
            directory = directory.Parent;
        }

        var markdown = File.ReadAllText(Path.Combine(directory?.FullName ?? throw new FileNotFoundException("docs/audit-queries.md"), "docs", "audit-queries.md"));
        return SqlBlock().Matches(markdown).ToDictionary(m => m.Groups["id"].Value, m => m.Groups["sql"].Value);
    }

    [GeneratedRegex(@"```sql\n-- query: (?<id>[a-z0-9-]+)\n(?<sql>.*?)```", RegexOptions.Singleline)]
    private static partial Regex SqlBlock();

    public async Task DisposeAsync() => await _db.DisposeAsync();
}
