using EdgeSigner.AuditSink.Reporting;

namespace EdgeSigner.AuditSink.Tests;

/// <summary>The quota monitor's projections on synthetic series, against values worked out by hand.</summary>
public sealed class QuotaProjectionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 18, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_steady_rate_projects_its_day_and_never_exhausts()
    {
        var perMinute = Enumerable.Repeat(6000L, 60).ToList(); // 100 per second

        var (projection, alerts) = QuotaProjections.Project(perMinute, currentPerSecond: 100, requestsToday: 1_000_000, errorRate: 0.001, quotaPerSecond: 500, Now);

        Assert.Equal(360_000, projection.HourlyPeak); // 6000 a minute × 60
        Assert.Equal(1_000_000 + (100 * 6 * 3600), projection.DailyTotal); // six hours left today at 100/s
        Assert.Null(projection.QuotaExhaustionTime); // flat trend
        Assert.False(alerts.UsageAlert || alerts.ErrorAlert || alerts.QuotaExhaustion);
    }

    [Fact]
    public void A_rising_rate_reaches_the_quota_when_its_trend_says()
    {
        // 15 minutes rising by 60 a minute: 100/s, 101/s, ... 114/s (slope 1/s per minute).
        var perMinute = Enumerable.Range(0, 15).Select(i => (long)(6000 + (60 * i))).ToList();

        var (projection, alerts) = QuotaProjections.Project(perMinute, currentPerSecond: 114, requestsToday: 0, errorRate: 0, quotaPerSecond: 150, Now);

        // The fitted line is exact: 114/s now, +1/s each minute, so 150/s in 36 minutes.
        Assert.Equal(Now.AddMinutes(36), projection.QuotaExhaustionTime);
        Assert.True(alerts.QuotaExhaustion); // within the hour
        Assert.False(alerts.UsageAlert); // 114 / 150 = 0.76 < 0.8
    }

    [Fact]
    public void Usage_errors_and_an_exhausted_quota_raise_their_alerts()
    {
        var (projection, alerts) = QuotaProjections.Project([30_000, 30_000], currentPerSecond: 500, requestsToday: 10, errorRate: 0.06, quotaPerSecond: 500, Now);

        Assert.Equal(Now, projection.QuotaExhaustionTime);
        Assert.True(alerts.UsageAlert && alerts.ErrorAlert && alerts.QuotaExhaustion);
        Assert.Equal((0.8, 0.05), (alerts.UsageThreshold, alerts.ErrorThreshold));
    }
}
