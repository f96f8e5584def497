using EdgeSigner.Benchmarks.Measurement;
using EdgeSigner.Benchmarks.Reporting;

namespace EdgeSigner.Benchmarks.Tests;

public sealed class MeasurementTests
{
    [Fact]
    public void A_histogram_reports_the_percentiles_of_what_it_recorded()
    {
        var histogram = new LatencyHistogram();
        for (var ms = 1; ms <= 100; ms++)
        {
            histogram.Record(TimeSpan.FromMilliseconds(ms));
        }

        Assert.Equal(100, histogram.Count);
        Assert.Equal(50, histogram.PercentileMs(50), 0.1);
        Assert.Equal(99, histogram.PercentileMs(99), 0.1);
        Assert.Equal(100, histogram.PercentileMs(100), 0.1);
        Assert.Equal(0, new LatencyHistogram().PercentileMs(99));
    }

    [Fact]
    public void Merged_histograms_equal_one_that_recorded_everything()
    {
        var fast = new LatencyHistogram();
        var slow = new LatencyHistogram();
        var all = new LatencyHistogram();
        for (var i = 0; i < 900; i++)
        {
            fast.Record(TimeSpan.FromMilliseconds(2));
            all.Record(TimeSpan.FromMilliseconds(2));
        }

        for (var i = 0; i < 100; i++)
        {
            slow.Record(TimeSpan.FromMilliseconds(300));
            all.Record(TimeSpan.FromMilliseconds(300));
        }

        var merged = new LatencyHistogram();
        merged.Add(fast);
        merged.Add(slow);
        Assert.Equal(all.Count, merged.Count);
        foreach (var p in new[] { 50.0, 89.0, 91.0, 99.0 })
        {
            Assert.Equal(all.PercentileMs(p), merged.PercentileMs(p));
        }

        Assert.Equal(2, merged.PercentileMs(90), 0.01);
        Assert.Equal(300, merged.PercentileMs(91), 0.5);
    }

    [Theory]
    [InlineData(new[] { 3.0 }, 3.0, 3.0, 3.0)]
    [InlineData(new[] { 5.0, 1.0, 3.0 }, 3.0, 1.0, 5.0)]
    [InlineData(new[] { 4.0, 1.0, 3.0, 10.0 }, 3.5, 1.0, 10.0)]
    public void Measured_is_the_median_with_the_lowest_and_highest_run(double[] runs, double median, double min, double max)
    {
        var measured = Measured.Of(runs);
        Assert.Equal((median, min, max, runs.Length), (measured.Median, measured.Min, measured.Max, measured.Runs));
    }

    [Fact]
    public void A_ratio_is_median_over_median_and_undefined_against_zero()
    {
        Assert.Equal(0.25, Measured.Of([100.0, 120, 80]).RatioTo(Measured.Of([400.0, 390, 500])));
        Assert.Null(Measured.Of([1.0]).RatioTo(Measured.Of([0.0])));
        Assert.Equal("100.0/s (80.0–120.0)", Measured.Of([100.0, 120, 80]).Format("/s"));
        Assert.Equal("7 ms", Measured.Of([7.0]).Format(" ms", "F0"));
    }

    [Fact]
    public async Task A_sweep_stops_once_throughput_stops_growing()
    {
        // A resource that serves two callers at a time, 20 ms each: about 100/s, whatever the concurrency beyond 2.
        using var capacity = new SemaphoreSlim(2);
        var levels = await ClosedLoop.SweepAsync(64, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(600), async ct =>
        {
            await capacity.WaitAsync(ct);
            try
            {
                await Task.Delay(20, ct);
                return true;
            }
            finally
            {
                capacity.Release();
            }
        });

        // What the figures are depends on the machine's load (other test projects run beside this one); what the
        // sweep does with them does not: it doubled the concurrency, counted each level right, and stopped at the
        // first saturated level or at the maximum.
        var swept = string.Join(", ", levels.Select(l => $"{l.Concurrency}:{l.PerSecond:F0}/s"));
        Assert.Equal(Enumerable.Range(0, levels.Count).Select(i => 1 << i), levels.Select(l => l.Concurrency));
        Assert.All(levels, l => Assert.Equal(l.Latency.Count / 0.6, l.PerSecond, 1));
        Assert.All(Enumerable.Range(1, levels.Count - 1), n => Assert.False(ClosedLoop.Saturated(levels.Take(n).ToList()), $"swept past saturation: {swept}"));
        Assert.True(ClosedLoop.Saturated(levels) || levels[^1].Concurrency == 64, $"stopped before saturation: {swept}");
        Assert.InRange(ClosedLoop.Saturation(levels).Concurrency, 2, 64);
    }

    [Theory]
    [InlineData(new[] { 10.0, 90, 94, 93 }, true)] // two levels in a row under 5 % growth
    [InlineData(new[] { 10.0, 90, 53, 73 }, false)] // 73 is more than 5 % over 53: still growing
    [InlineData(new[] { 10.0, 50, 100 }, false)]
    [InlineData(new[] { 100.0, 100 }, false)] // fewer than three levels: not yet
    public void Saturation_is_two_levels_in_a_row_without_5_percent_growth(double[] perSecond, bool saturated)
    {
        var levels = perSecond.Select((p, i) => new LoadResult(1 << i, p, new LatencyHistogram(), 0)).ToList();
        Assert.Equal(saturated, ClosedLoop.Saturated(levels));
    }

    [Fact]
    public async Task Errors_are_counted_apart_from_completed_operations()
    {
        var n = 0;
        var result = await ClosedLoop.RunAsync(1, TimeSpan.Zero, TimeSpan.FromMilliseconds(300), async ct =>
        {
            await Task.Delay(5, ct);
            return Interlocked.Increment(ref n) % 2 == 0;
        });

        Assert.InRange(result.Errors, result.Latency.Count - 2, result.Latency.Count + 2);
        Assert.True(result.Errors > 5);
    }
}
