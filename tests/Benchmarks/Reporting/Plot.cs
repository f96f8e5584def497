namespace EdgeSigner.Benchmarks.Reporting;

/// <summary>The PNG: p50 and p99 latency against throughput, one pair of lines per curve (ScottPlot).</summary>
public static class Plot
{
    public static void LatencyAgainstThroughput(IReadOnlyList<Curve> curves, string path)
    {
        ArgumentNullException.ThrowIfNull(curves);
        // Both axes logarithmic: the ceilings are one to three orders of magnitude from the pipeline.
        var plot = new ScottPlot.Plot();
        foreach (var curve in curves.Where(c => c.Points.Count > 0))
        {
            var xs = curve.Points.Select(p => Math.Log10(Math.Max(p.PerSecond, 0.1))).ToArray();
            var p99 = plot.Add.Scatter(xs, curve.Points.Select(p => Math.Log10(Math.Max(p.P99Ms, 0.01))).ToArray());
            p99.LegendText = $"{curve.Name} p99";
            var p50 = plot.Add.Scatter(xs, curve.Points.Select(p => Math.Log10(Math.Max(p.P50Ms, 0.01))).ToArray());
            p50.LegendText = $"{curve.Name} p50";
            p50.LinePattern = ScottPlot.LinePattern.Dashed;
            p50.Color = p99.Color;
        }

        plot.Title("Latency against throughput (closed loop, rising concurrency)");
        plot.XLabel("requests per second (log scale)");
        plot.YLabel("latency, ms (log scale)");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Power };
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Power };
        plot.ShowLegend(ScottPlot.Alignment.LowerLeft);
        plot.SavePng(path, 1000, 600);
    }

    private static string Power(double exponent) => Math.Pow(10, exponent).ToString("G3", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Draws the plot of a report written earlier (<c>--replot report.json out.png</c>).</summary>
    public static void FromReport(string reportJson, string path)
    {
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(reportJson));
        var curves = json.RootElement.GetProperty("curves").EnumerateArray().Select(c => new Curve(c.GetProperty("name").GetString()!,
            c.GetProperty("points").EnumerateArray().Select(p => new CurvePoint(p.GetProperty("concurrency").GetInt32(), p.GetProperty("per_second").GetDouble(),
                p.GetProperty("p50_ms").GetDouble(), p.GetProperty("p99_ms").GetDouble())).ToList())).ToList();
        LatencyAgainstThroughput(curves, path);
    }
}
