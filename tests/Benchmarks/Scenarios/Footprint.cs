using EdgeSigner.Benchmarks.Harness;
using EdgeSigner.Benchmarks.Reporting;

namespace EdgeSigner.Benchmarks.Scenarios;

/// <summary>Each service's start-up time to ready and peak resident memory, over every cluster the run started.</summary>
public sealed class Footprint
{
    private readonly Dictionary<string, List<double>> _startUpMs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<double>> _peakRssMb = new(StringComparer.Ordinal);

    /// <summary>Call after a cluster's load, before it stops: its peaks then include that load.</summary>
    public void Record(Cluster cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        foreach (var (service, time) in cluster.StartUp)
        {
            Add(_startUpMs, Service(service), time.TotalMilliseconds);
        }

        foreach (var (service, mb) in cluster.PeakRssMb())
        {
            Add(_peakRssMb, Service(service), mb);
        }
    }

    public void AddRows(BenchmarkReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        foreach (var service in _startUpMs.Keys.Order(StringComparer.Ordinal))
        {
            var rss = _peakRssMb[service];
            var peak = new Measured(rss.Max(), rss.Min(), rss.Max(), 1);
            report.Rows.Add(new Row
            {
                Scenario = $"{service} process", Figure = "peak RSS (highest over all loads)", Value = peak, Unit = " MB", Number = "F0",
                Ceiling = "goal", CeilingValue = new Measured(250, 250, 250, 1), CeilingUnit = " MB", Ratio = peak.Median / 250,
                Goal = "< 250 MB", Met = peak.Median < 250,
            });
            var startUp = Measured.Of(_startUpMs[service]);
            report.Rows.Add(new Row
            {
                Scenario = $"{service} process", Figure = "start-up to ready (/readyz 200)", Value = startUp, Unit = " ms", Number = "F0",
                Ceiling = "goal", CeilingValue = new Measured(3000, 3000, 3000, 1), CeilingUnit = " ms", Ratio = startUp.Median / 3000,
                Goal = "< 3 s", Met = startUp.Median < 3000,
            });
        }
    }

    private static string Service(string name) => name.StartsWith("sign-worker", StringComparison.Ordinal) ? "sign-worker" : name;

    private static void Add(Dictionary<string, List<double>> values, string key, double value)
    {
        if (!values.TryGetValue(key, out var list))
        {
            values[key] = list = [];
        }

        list.Add(value);
    }
}
