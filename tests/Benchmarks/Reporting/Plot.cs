namespace EdgeSigner.Benchmarks.Reporting;

/// <summary>The PNG: p50 and p99 latency against throughput, one pair of lines per curve (ScottPlot).</summary>
public static class Plot
{
    public static void LatencyAgainstThroughput(IReadOnlyList<Curve> curves, string path)
    {
        ArgumentNullException.ThrowIfNull(curves);
        var plot = new ScottPlot.Plot();
        foreach (var curve in curves.Where(c => c.Points.Count > 0))
        {
            var xs = curve.Points.Select(p => p.PerSecond).ToArray();
            var p99 = plot.Add.Scatter(xs, curve.Points.Select(p => p.P99Ms).ToArray());
            p99.LegendText = $"{curve.Name} p99";
            var p50 = plot.Add.Scatter(xs, curve.Points.Select(p => p.P50Ms).ToArray());
            p50.LegendText = $"{curve.Name} p50";
            p50.LinePattern = ScottPlot.LinePattern.Dashed;
            p50.Color = p99.Color;
        }

        plot.Title("Latency against throughput (closed loop, rising concurrency)");
        plot.XLabel("requests per second");
        plot.YLabel("latency, ms");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.SavePng(path, 1000, 600);
    }
}
