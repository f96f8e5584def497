using System.Net;
using System.Net.Http.Json;
using EdgeSigner.Benchmarks.Ceilings;
using EdgeSigner.Benchmarks.Harness;
using EdgeSigner.Benchmarks.Measurement;
using EdgeSigner.Benchmarks.Reporting;

namespace EdgeSigner.Benchmarks.Scenarios;

/// <summary>
/// The same synchronous load with KMS taking 20 ms and a global budget of 1,000 calls per second (AWS's default ECC quota) (the KMS server
/// enforcing it as a quota): the rate achieved under overload beside the budget, throttles, and the pipeline's own
/// p99 cost (p99 − KMS latency) at half of saturation.
/// </summary>
public static class KmsBudgetScenario
{
    public static async Task RunAsync(BenchOptions options, BenchmarkReport report, Footprint footprint)
    {
        var sweeps = new List<IReadOnlyList<LoadResult>>();
        var throttles = new List<double>();
        var kmsRates = new List<double>();
        var directSweeps = new List<IReadOnlyList<LoadResult>>();
        for (var run = 0; run < options.Runs; run++)
        {
            await using var cluster = await Cluster.StartAsync(workers: 2, options.KmsBudget, TimeSpan.FromMilliseconds(options.KmsLatencyMs), options.KmsBudget,
                warmUp: options.ClusterWarmUp);
            using var client = await cluster.TenantClientAsync("bench");
            var body = new { payload = Convert.ToBase64String(new byte[100]), format = "raw" };
            var callsBefore = cluster.Kms.SignCalls;
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var levels = new List<LoadResult>();
            for (var concurrency = 1; concurrency <= options.MaxConcurrency * 2; concurrency *= 2)
            {
                levels.Add(await ClosedLoop.RunAsync(concurrency, options.WarmUp, options.Measure, async ct =>
                {
                    using var response = await client.PostAsJsonAsync("/v1/sign", body, ct);
                    return response.StatusCode == HttpStatusCode.OK;
                }));
            }

            sweeps.Add(levels);
            throttles.Add(cluster.Kms.Throttles);
            kmsRates.Add((cluster.Kms.SignCalls - callsBefore) / watch.Elapsed.TotalSeconds);
            footprint.Record(cluster);

            // The ceiling: the same levels against the same server (latency, quota), the AWS SDK called by hand.
            using var direct = new DirectKms(cluster.Kms, options.KmsBudget);
            var directLevels = new List<LoadResult>();
            foreach (var level in levels)
            {
                directLevels.Add(await ClosedLoop.RunAsync(level.Concurrency, options.WarmUp, options.Measure, direct.SignAsync));
            }

            directSweeps.Add(directLevels);
        }

        var budget = new Measured(options.KmsBudget, options.KmsBudget, options.KmsBudget, 1);
        var overload = Measured.Of(sweeps.Select(s => s[^1].PerSecond));
        var directOverload = Measured.Of(directSweeps.Select(s => s[^1].PerSecond));
        var half = sweeps.Select(ClosedLoop.HalfSaturation).ToList();
        var ownCost = Measured.Of(half.Select(h => h.P99 - options.KmsLatencyMs));
        // Direct KMS at the same concurrency as the pipeline's half-saturation level (each sweep with its own run's).
        var directAtHalf = half.Select((h, run) => directSweeps[run].First(d => d.Concurrency == h.Concurrency)).ToList();
        var overDirect = Measured.Of(half.Select((h, run) => h.P99 - directAtHalf[run].P99));
        var name = $"synchronous /v1/sign, KMS {options.KmsLatencyMs} ms, budget {options.KmsBudget}/s, two workers";
        report.Rows.Add(new Row
        {
            Scenario = name, Figure = $"signatures per second under overload ({options.MaxConcurrency * 2} callers)", Value = overload, Unit = "/s",
            Ceiling = "the budget", CeilingValue = budget, CeilingUnit = "/s", Ratio = overload.RatioTo(budget), Goal = "≥ 0.97 of the budget",
            Met = overload.RatioTo(budget) >= 0.97,
        });
        report.Rows.Add(new Row
        {
            Scenario = name, Figure = $"signatures per second under overload ({options.MaxConcurrency * 2} callers)", Value = overload, Unit = "/s",
            Ceiling = "direct KMS: the AWS SDK by hand, same server, latency, budget and callers", CeilingValue = directOverload, CeilingUnit = "/s",
            Ratio = overload.RatioTo(directOverload),
        });
        report.Rows.Add(new Row
        {
            Scenario = name, Figure = "KMS throttles (the server's quota refusals)", Value = Measured.Of(throttles), Number = "F0",
            Ceiling = "goal", Goal = "0", Met = throttles.All(t => t == 0),
        });
        report.Rows.Add(new Row
        {
            Scenario = name, Figure = $"p99 − {options.KmsLatencyMs} ms at half of saturation ({Measured.Of(half.Select(h => h.PerSecond)).Format("/s", "F0")})",
            Value = ownCost, Unit = " ms", Ceiling = "the configured KMS latency, subtracted",
        });
        report.Rows.Add(new Row
        {
            Scenario = name, Figure = "p99 − direct KMS's p99, at half of saturation (the same callers)", Value = overDirect, Unit = " ms",
            Ceiling = $"direct KMS p99 there: {Measured.Of(directAtHalf.Select(d => d.P99)).Format(" ms")}; goal", CeilingValue = new Measured(10, 10, 10, 1),
            CeilingUnit = " ms", Ratio = overDirect.Median / 10, Goal = "< 10 ms", Met = overDirect.Median < 10,
        });
        report.Curves.Add(Curves.Median($"pipeline, KMS {options.KmsLatencyMs} ms + budget", sweeps));
        report.Curves.Add(Curves.Median($"direct KMS, {options.KmsLatencyMs} ms + budget", directSweeps));
        report.Notes.Add($"KMS calls per second over the whole {name} sweep (all levels): {Measured.Of(kmsRates).Format("/s")}.");
    }
}
