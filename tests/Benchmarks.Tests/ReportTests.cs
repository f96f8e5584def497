using System.Text.Json;
using EdgeSigner.Benchmarks.Reporting;

namespace EdgeSigner.Benchmarks.Tests;

public sealed class ReportTests
{
    private static BenchmarkReport Sample()
    {
        var report = new BenchmarkReport { Machine = "2 cores (test)", StartedAt = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero), Runs = 3 };
        var value = Measured.Of([450.0, 470, 480]);
        var ceiling = Measured.Of([900.0, 1000, 950]);
        report.Rows.Add(new Row
        {
            Scenario = "sync", Figure = "signatures per second", Value = value, Unit = "/s", Ceiling = "bare bus", CeilingValue = ceiling,
            CeilingUnit = "/s", Ratio = value.RatioTo(ceiling), Goal = "≥ 0.5 of the bus", Met = value.RatioTo(ceiling) >= 0.5,
        });
        report.Rows.Add(new Row { Scenario = "batch", Figure = "throttles", Value = Measured.Of([0.0, 0, 0]), Number = "F0", Ceiling = "goal", Goal = "0", Met = true });
        report.Curves.Add(new Curve("pipeline", [new CurvePoint(1, 100, 9, 12), new CurvePoint(2, 180, 10, 15), new CurvePoint(4, 240, 15, 30)]));
        report.Curves.Add(new Curve("bus", [new CurvePoint(1, 300, 3, 4), new CurvePoint(2, 550, 3.5, 5)]));
        return report;
    }

    [Fact]
    public void The_markdown_table_has_each_figure_beside_its_ceiling_with_the_ratio_and_goal()
    {
        var markdown = Sample().ToMarkdown();
        Assert.Contains("| scenario | figure | value | ceiling measured beside it | ratio | goal |", markdown, StringComparison.Ordinal);
        Assert.Contains("| sync | signatures per second | 470.0/s (450.0–480.0) | bare bus: 950.0/s (900.0–1000.0) | 0.495 | ≥ 0.5 of the bus (missed) |", markdown, StringComparison.Ordinal);
        Assert.Contains("| batch | throttles | 0 (0–0) | goal |  | 0 (met) |", markdown, StringComparison.Ordinal);
        Assert.Contains("median of 3 run(s)", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void The_json_holds_every_row_and_curve()
    {
        using var json = JsonDocument.Parse(Sample().ToJson());
        var rows = json.RootElement.GetProperty("rows");
        Assert.Equal(2, rows.GetArrayLength());
        Assert.Equal(470, rows[0].GetProperty("value").GetProperty("median").GetDouble());
        Assert.Equal(470.0 / 950, rows[0].GetProperty("ratio").GetDouble(), 6);
        Assert.False(rows[0].GetProperty("met").GetBoolean());
        Assert.Equal(3, json.RootElement.GetProperty("curves")[0].GetProperty("points").GetArrayLength());
    }

    [Fact]
    public async Task Writing_produces_markdown_json_and_a_png_plot()
    {
        var folder = Directory.CreateTempSubdirectory("edgesigner-report-").FullName;
        try
        {
            await Sample().WriteAsync(folder);
            Assert.StartsWith("Machine: 2 cores (test)", await File.ReadAllTextAsync(Path.Combine(folder, "report.md")), StringComparison.Ordinal);
            JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "report.json"))).Dispose();
            var png = await File.ReadAllBytesAsync(Path.Combine(folder, "latency-throughput.png"));
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, png[..4]);
            Assert.True(png.Length > 10_000, $"a {png.Length}-byte PNG is too small to hold the plot");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Curves_take_the_median_of_each_level_every_run_reached()
    {
        static Measurement.LoadResult Level(int c, double rate) => new(c, rate, new Measurement.LatencyHistogram(), 0);
        var curve = Curves.Median("x", [[Level(1, 100), Level(2, 190), Level(4, 200)], [Level(1, 110), Level(2, 170)], [Level(1, 90), Level(2, 180), Level(4, 210)]]);
        Assert.Equal([1, 2], curve.Points.Select(p => p.Concurrency));
        Assert.Equal([100.0, 180.0], curve.Points.Select(p => p.PerSecond));
    }
}
