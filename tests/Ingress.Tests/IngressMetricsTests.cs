using System.Diagnostics.Metrics;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Ingress.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EdgeSigner.Ingress.Tests;

/// <summary>The status page's last minute: rates and latency percentiles from a fixed-size window.</summary>
public sealed class IngressMetricsTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Percentiles_of_the_last_minute_are_within_five_percent_and_older_seconds_drop_out()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new IngressMetrics(services.GetRequiredService<IMeterFactory>(), _clock);
        for (var ms = 1; ms <= 1000; ms++)
        {
            metrics.Record(Log(ms, SigningModes.CentralFallback), fromWorker: true);
        }

        var summary = metrics.Summary();

        Assert.Equal(1000 / 60.0, summary.RequestsPerSecond, 6);
        Assert.InRange(summary.P50Ms, 500, 500 * 1.05);
        Assert.InRange(summary.P95Ms, 950, 950 * 1.05);
        Assert.InRange(summary.P99Ms, 990, 990 * 1.05);

        _clock.Advance(TimeSpan.FromSeconds(61));
        metrics.Record(Log(2, SigningModes.Edge), fromWorker: true);
        var later = metrics.Summary();
        Assert.Equal(1 / 60.0, later.RequestsPerSecond, 6);
        Assert.Equal(1 / 60.0, later.EdgePerSecond, 6);
        Assert.InRange(later.P99Ms, 2, 2 * 1.05);
    }

    private EdgeSignerLog Log(double totalMs, string mode) =>
        EdgeSignerLog.Begin(Guid.NewGuid(), "acme", _clock.GetUtcNow()) with { TTotalMs = totalMs, Success = true, SigningMode = mode };
}
