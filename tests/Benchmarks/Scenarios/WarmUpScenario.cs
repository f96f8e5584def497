using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using EdgeSigner.Benchmarks.Harness;
using EdgeSigner.Benchmarks.Measurement;
using EdgeSigner.Benchmarks.Reporting;

namespace EdgeSigner.Benchmarks.Scenarios;

/// <summary>
/// How soon a new instance is worth its CPU: fresh processes under load from the moment they are ready, throughput
/// per short window; the time from ready until a window first reaches 90% of the steady rate (the median of the last
/// quarter of windows). Once per runtime variant, so the table says which JIT settings buy what.
/// </summary>
public static class WarmUpScenario
{
    public const double GoalSeconds = 15;
    private const int Concurrency = 16;

    /// <summary>The runtime variants compared: the services' own settings, and environment overrides of the JIT's.</summary>
    public static readonly IReadOnlyList<(string Name, Dictionary<string, string> Environment)> Variants =
    [
        ("as shipped", []),
        ("DOTNET_TieredPGO=0", new() { ["DOTNET_TieredPGO"] = "0" }),
        ("DOTNET_TieredCompilation=0", new() { ["DOTNET_TieredCompilation"] = "0" }),
    ];

    public static async Task RunAsync(BenchOptions options, BenchmarkReport report, Footprint footprint)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(footprint);
        var variants = options.WarmUpVariants is { } count ? Variants.Take(count) : Variants;
        foreach (var (name, environment) in variants)
        {
            var toSteady = new List<double>();
            var steady = new List<double>();
            var first = new List<double>();
            var ready = new List<double>();
            for (var run = 0; run < options.Runs; run++)
            {
                await using var cluster = await Cluster.StartAsync(workers: 1, kmsBudget: 100_000, kmsLatency: TimeSpan.Zero, kmsQuota: null, settings: environment);
                using var client = await cluster.TenantClientAsync("warm");
                var body = new { payload = Convert.ToBase64String(new byte[100]), format = "raw" };
                var windows = new List<double>();
                var windowCount = (int)Math.Ceiling(options.WarmUpLength / options.WarmUpWindow);
                for (var i = 0; i < windowCount; i++)
                {
                    var load = await ClosedLoop.RunAsync(Concurrency, TimeSpan.Zero, options.WarmUpWindow, async ct =>
                    {
                        using var response = await client.PostAsJsonAsync("/v1/sign", body, ct);
                        return response.StatusCode == HttpStatusCode.OK;
                    });
                    windows.Add(load.PerSecond);
                }

                footprint.Record(cluster);
                var steadyRate = Measured.Of(windows.Skip(windows.Count * 3 / 4)).Median;
                var reached = windows.FindIndex(w => w >= 0.9 * steadyRate);
                steady.Add(steadyRate);
                first.Add(windows[0]);
                toSteady.Add((reached + 1) * options.WarmUpWindow.TotalSeconds);
                ready.Add(cluster.StartUp["ingress"].TotalMilliseconds);
            }

            var seconds = Measured.Of(toSteady);
            var steadyRates = Measured.Of(steady);
            report.Rows.Add(new Row
            {
                Scenario = $"new instance under load ({name})",
                Figure = $"seconds from ready until {Concurrency} callers get 90% of the steady rate " +
                    $"(first {options.WarmUpWindow.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s: {Measured.Of(first).Format("/s", "F0")}; " +
                    $"ingress ready after {Measured.Of(ready).Format(" ms", "F0")})",
                Value = seconds, Unit = " s", Number = "F1",
                Ceiling = "steady rate (median of the last quarter)", CeilingValue = steadyRates, CeilingUnit = "/s",
                Ratio = seconds.Median / GoalSeconds, Goal = $"≤ {GoalSeconds} s", Met = seconds.Median <= GoalSeconds,
            });
        }
    }
}
