using EdgeSigner.Benchmarks.Measurement;

namespace EdgeSigner.Benchmarks.Reporting;

public static class Curves
{
    /// <summary>One point per concurrency level that every run reached: the medians of throughput, p50 and p99.</summary>
    public static Curve Median(string name, IReadOnlyList<IReadOnlyList<LoadResult>> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var levels = runs.SelectMany(r => r.Select(l => l.Concurrency)).Distinct().Order()
            .Where(c => runs.All(r => r.Any(l => l.Concurrency == c)));
        return new Curve(name, levels.Select(c =>
        {
            var at = runs.Select(r => r.First(l => l.Concurrency == c)).ToList();
            return new CurvePoint(c, Measured.Of(at.Select(l => l.PerSecond)).Median, Measured.Of(at.Select(l => l.P50)).Median,
                Measured.Of(at.Select(l => l.P99)).Median);
        }).ToList());
    }
}
