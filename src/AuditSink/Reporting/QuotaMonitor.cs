using EdgeSigner.AuditSink.Data;
using EdgeSigner.Contracts.Audit;
using EdgeSigner.Guardrails.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EdgeSigner.AuditSink.Reporting;

/// <summary>Pure projections from a region's recent traffic, tested on synthetic series.</summary>
public static class QuotaProjections
{
    public const double UsageThreshold = 0.80;
    public const double ErrorThreshold = 0.05;

    /// <param name="perMinute">Requests in each of the last minutes, oldest first, the last one the latest complete minute.</param>
    /// <param name="now">The end of the latest minute.</param>
    public static (QuotaProjection Projection, QuotaAlerts Alerts) Project(
        IReadOnlyList<long> perMinute, double currentPerSecond, long requestsToday, double errorRate, double quotaPerSecond, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(perMinute);
        var hourlyPeak = perMinute.Count == 0 ? 0 : perMinute.TakeLast(60).Max() * 60.0;
        var secondsLeftToday = (now.UtcDateTime.Date.AddDays(1) - now.UtcDateTime).TotalSeconds;
        var dailyTotal = requestsToday + (currentPerSecond * secondsLeftToday);

        // Linear trend of the per-second rate over the last 15 minutes: when would it reach the quota?
        DateTimeOffset? exhaustion = null;
        var recent = perMinute.TakeLast(15).Select(c => c / 60.0).ToList();
        if (currentPerSecond >= quotaPerSecond)
        {
            exhaustion = now;
        }
        else if (recent.Count >= 2)
        {
            var n = recent.Count;
            var meanX = (n - 1) / 2.0;
            var meanY = recent.Average();
            var slope = Enumerable.Range(0, n).Sum(i => (i - meanX) * (recent[i] - meanY)) / Enumerable.Range(0, n).Sum(i => (i - meanX) * (i - meanX));
            var fittedNow = meanY + (slope * (n - 1 - meanX));
            if (slope > 0)
            {
                exhaustion = now.AddMinutes(Math.Max(0, (quotaPerSecond - fittedNow) / slope));
            }
        }

        var usage = quotaPerSecond <= 0 ? 0 : currentPerSecond / quotaPerSecond;
        var alerts = new QuotaAlerts(UsageThreshold, ErrorThreshold,
            UsageAlert: usage >= UsageThreshold,
            ErrorAlert: errorRate >= ErrorThreshold,
            QuotaExhaustion: exhaustion is { } at && at - now <= TimeSpan.FromHours(1));
        return (new QuotaProjection(hourlyPeak, dailyTotal, exhaustion), alerts);
    }
}

/// <summary>Reads each KMS region's recent calls from the audit store and projects them (<c>GET /admin/quota</c>).</summary>
public sealed class QuotaMonitor(AuditDbContext db, QuotaQueries queries, IOptions<KmsBudgetOptions> budget, TimeProvider time)
{
    private sealed record MinuteCount(string Region, DateTimeOffset Minute, long Requests, long Failures);

    public async Task<IReadOnlyList<KmsQuotaReport>> ReportAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var minuteNow = new DateTimeOffset(now.UtcDateTime.Date.AddHours(now.UtcDateTime.Hour).AddMinutes(now.UtcDateTime.Minute), TimeSpan.Zero);
        var hourAgo = minuteNow.AddHours(-1);
        var midnight = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        var tenSecondsAgo = now.AddSeconds(-10);

        // Outcome rows of every backend's calls: KMS regions, and local key files as region 'local' (which have a budget
        // like any region, so embedded mode shows the same quota view).
        var minutes = await db.Database.SqlQueryRaw<MinuteCount>(queries.PerMinute, hourAgo, minuteNow).ToListAsync(cancellationToken);
        var daily = (await db.Database.SqlQueryRaw<RegionCount>(queries.Since, midnight).ToListAsync(cancellationToken)).ToDictionary(r => r.Region, r => r.Value);
        var lastTen = (await db.Database.SqlQueryRaw<RegionCount>(queries.Since, tenSecondsAgo).ToListAsync(cancellationToken))
            .ToDictionary(r => r.Region, r => r.Value);

        var regions = minutes.Select(m => m.Region).Concat(daily.Keys).Concat(budget.Value.Regions.Keys).Where(r => r.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal);
        var reports = new List<KmsQuotaReport>();
        foreach (var region in regions)
        {
            var byMinute = minutes.Where(m => m.Region == region).ToDictionary(m => m.Minute.UtcTicks);
            var series = Enumerable.Range(0, 60).Select(i => byMinute.TryGetValue(hourAgo.AddMinutes(i).UtcTicks, out var m) ? m.Requests : 0L).ToList();
            var total = minutes.Where(m => m.Region == region).Sum(m => m.Requests);
            var failures = minutes.Where(m => m.Region == region).Sum(m => m.Failures);
            var errorRate = total == 0 ? 0 : (double)failures / total;
            var perSecond = lastTen.GetValueOrDefault(region) / 10.0;
            var quota = budget.Value.RateFor(region);
            var (projection, alerts) = QuotaProjections.Project(series, perSecond, daily.GetValueOrDefault(region), errorRate, quota, now);
            reports.Add(new KmsQuotaReport(region, quota, new QuotaUsage(perSecond, daily.GetValueOrDefault(region), errorRate), projection, alerts));
        }

        return reports;
    }

    private sealed record RegionCount(string Region, long Value);
}
