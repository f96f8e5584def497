using System.Net;
using System.Net.Http.Json;
using EdgeSigner.Benchmarks.Ceilings;
using EdgeSigner.Benchmarks.Harness;
using EdgeSigner.Benchmarks.Measurement;
using EdgeSigner.Benchmarks.Reporting;

namespace EdgeSigner.Benchmarks.Scenarios;

/// <summary>The rejection paths (unknown API key 401, payload too large 413, rate limited 429) beside a bare Kestrel endpoint.</summary>
public static class RejectionScenario
{
    private const int Concurrency = 16;

    public static async Task RunAsync(BenchOptions options, BenchmarkReport report, Footprint footprint)
    {
        var results = new Dictionary<string, List<double>>(StringComparer.Ordinal) { ["401"] = [], ["413"] = [], ["429"] = [], ["kestrel"] = [] };
        for (var run = 0; run < options.Runs; run++)
        {
            await using (var cluster = await Cluster.StartAsync(workers: 1, kmsBudget: 100_000, kmsLatency: TimeSpan.Zero, kmsQuota: null,
                new Dictionary<string, string> { ["EdgeSigner:AuthFailures:Burst"] = "1000000" }, options.ClusterWarmUp))
            {
                using var stranger = cluster.Client("esk_unknown_0123456789abcdef0123456789");
                using var tenant = await cluster.TenantClientAsync("bench");
                using var limited = await cluster.TenantClientAsync("limited", ratePerSecond: 1, burst: 1);
                var small = new { payload = Convert.ToBase64String(new byte[100]), format = "raw" };
                var large = new { payload = Convert.ToBase64String(new byte[33_000]), format = "raw" }; // over 32 KiB, the body read in full
                foreach (var (status, client, body, expected) in new[]
                {
                    ("401", stranger, (object)small, HttpStatusCode.Unauthorized),
                    ("413", tenant, large, HttpStatusCode.RequestEntityTooLarge),
                    ("429", limited, small, HttpStatusCode.TooManyRequests),
                })
                {
                    var result = await ClosedLoop.RunAsync(Concurrency, options.WarmUp, options.Measure, async ct =>
                    {
                        using var response = await client.PostAsJsonAsync("/v1/sign", body, ct);
                        return response.StatusCode == expected || (status == "429" && response.StatusCode == HttpStatusCode.OK);
                    });
                    results[status].Add(result.PerSecond);
                }

                footprint.Record(cluster);
            }

            await using var bare = await BareKestrel.StartAsync();
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 }) { BaseAddress = new Uri(bare.Url) };
            var payload = new { payload = Convert.ToBase64String(new byte[100]), format = "raw" };
            results["kestrel"].Add((await ClosedLoop.RunAsync(Concurrency, options.WarmUp, options.Measure, async ct =>
            {
                using var response = await http.PostAsJsonAsync("/v1/sign", payload, ct);
                return response.IsSuccessStatusCode;
            })).PerSecond);
        }

        var ceiling = Measured.Of(results["kestrel"]);
        foreach (var (status, figure) in new[] { ("401", "unknown API key, 401"), ("413", "payload over the limit, 413"), ("429", "tenant over its rate, 429") })
        {
            var value = Measured.Of(results[status]);
            report.Rows.Add(new Row
            {
                Scenario = $"rejection path, {Concurrency} callers", Figure = $"{figure}: answers per second", Value = value, Unit = "/s",
                Ceiling = "bare Kestrel endpoint", CeilingValue = ceiling, CeilingUnit = "/s", Ratio = value.RatioTo(ceiling),
            });
        }
    }
}
