using System.Globalization;
using EdgeSigner.Benchmarks.Harness;
using EdgeSigner.Benchmarks.Measurement;
using EdgeSigner.Benchmarks.Reporting;

namespace EdgeSigner.Benchmarks.Scenarios;

/// <summary>
/// CPU per signature: the CPU time of every pipeline process (ingress, workers, sink, RabbitMQ, PostgreSQL; not the
/// load generator or the KMS server) over the signatures made in one measured period at a given concurrency.
/// </summary>
public static class CpuCost
{
    public const double GoalMs = 1.5;

    /// <summary>Milliseconds of CPU per signature, per process group and in total (<c>"all"</c>).</summary>
    public static async Task<Dictionary<string, double>> PerSignatureAsync(Cluster cluster, int concurrency, TimeSpan measure,
        Func<CancellationToken, Task<bool>> sign)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var cpu = cluster.Cpu();
        var before = cpu.Snapshot();
        var load = await ClosedLoop.RunAsync(concurrency, TimeSpan.Zero, measure, sign);
        var used = ProcessCpu.Between(before, cpu.Snapshot());
        var signatures = Math.Max(1, load.PerSecond * measure.TotalSeconds);
        var perSignature = used.ToDictionary(u => u.Key, u => u.Value * 1000 / signatures, StringComparer.Ordinal);
        perSignature["all"] = perSignature.Values.Sum();
        return perSignature;
    }

    public static void AddRow(BenchmarkReport report, string scenario, IReadOnlyList<Dictionary<string, double>> runs)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(runs);
        var total = Measured.Of(runs.Select(r => r["all"]));
        var shares = string.Join(", ", runs[0].Keys.Where(k => k != "all").Order(StringComparer.Ordinal)
            .Select(k => $"{k} {Measured.Of(runs.Select(r => r[k])).Median.ToString("F2", CultureInfo.InvariantCulture)}"));
        report.Rows.Add(new Row
        {
            Scenario = scenario, Figure = "CPU per signature at saturation, every pipeline process (ms)", Value = total, Unit = " ms", Number = "F2",
            Ceiling = $"goal; shares (ms): {shares}", CeilingValue = new Measured(GoalMs, GoalMs, GoalMs, 1), CeilingUnit = " ms",
            Ratio = total.Median / GoalMs, Goal = $"≤ {GoalMs} ms", Met = total.Median <= GoalMs,
        });
    }
}
