using System.Text.Json;

namespace EdgeSigner.Benchmarks.Tests;

/// <summary>
/// Every scenario, for a moment and at a tiny load, against the real RabbitMQ, PostgreSQL and service processes:
/// keeps the benchmark program working. It measures nothing worth reading.
/// </summary>
public sealed class SmokeRunTests
{
    [Fact]
    public async Task A_smoke_run_of_every_scenario_writes_the_whole_table()
    {
        var folder = Directory.CreateTempSubdirectory("edgesigner-bench-smoke-").FullName;
        try
        {
            var report = await BenchmarkRun.RunAsync(BenchOptions.Smoke(folder), TextWriter.Null);

            var scenarios = report.Rows.Select(r => r.Scenario).ToList();
            foreach (var expected in new[] { "synchronous /v1/sign, rising", "synchronous /v1/sign, KMS", "-item batch", "audit sink ingest", "rejection path",
                "new instance under load", "ingress process", "sign-worker process", "audit-sink process" })
            {
                Assert.Contains(scenarios, s => s.Contains(expected, StringComparison.Ordinal));
            }

            // What must hold at any load: nothing lost, nothing throttled, every rejection answered.
            Assert.All(report.Rows.Where(r => r.Figure.Contains("lost", StringComparison.Ordinal) || r.Figure.Contains("throttles", StringComparison.Ordinal)),
                r => Assert.Equal(0, r.Value.Median));
            Assert.All(report.Rows.Where(r => r.Scenario.StartsWith("rejection", StringComparison.Ordinal)), r => Assert.True(r.Value.Median > 0, r.Figure));
            Assert.All(report.Rows.Where(r => r.Figure.StartsWith("peak RSS", StringComparison.Ordinal)), r => Assert.InRange(r.Value.Median, 20, 4000));

            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "report.json")));
            Assert.Equal(report.Rows.Count, json.RootElement.GetProperty("rows").GetArrayLength());
            Assert.True(File.Exists(Path.Combine(folder, "latency-throughput.png")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
