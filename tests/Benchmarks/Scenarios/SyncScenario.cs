using System.Net;
using System.Net.Http.Json;
using EdgeSigner.Benchmarks.Ceilings;
using EdgeSigner.Benchmarks.Harness;
using EdgeSigner.Benchmarks.Measurement;
using EdgeSigner.Benchmarks.Reporting;
using EdgeSigner.Testing;
using MassTransit;

namespace EdgeSigner.Benchmarks.Scenarios;

/// <summary>
/// Synchronous <c>/v1/sign</c> at rising concurrency until saturation (KMS answering at once), beside a bare
/// MassTransit request/response over the same broker, a bare Kestrel endpoint, and raw ECDSA signing.
/// </summary>
public static class SyncScenario
{
    public static async Task RunAsync(BenchOptions options, BenchmarkReport report, Footprint footprint)
    {
        var pipeline = new List<IReadOnlyList<LoadResult>>();
        var bus = new List<IReadOnlyList<LoadResult>>();
        var kestrel = new List<IReadOnlyList<LoadResult>>();
        var ecdsa = new List<(double One, double All)>();
        var direct = new List<IReadOnlyList<LoadResult>>();
        var cpu = new List<Dictionary<string, double>>(); // CPU ms per signature at saturation, per process group
        for (var run = 0; run < options.Runs; run++)
        {
            await using (var cluster = await Cluster.StartAsync(workers: 1, kmsBudget: 100_000, kmsLatency: TimeSpan.Zero, kmsQuota: null,
                warmUp: options.ClusterWarmUp))
            {
                using var client = await cluster.TenantClientAsync("bench");
                var body = new { payload = Convert.ToBase64String(new byte[100]), format = "raw" };
                async Task<bool> Sign(CancellationToken ct)
                {
                    using var response = await client.PostAsJsonAsync("/v1/sign", body, ct);
                    return response.StatusCode == HttpStatusCode.OK;
                }

                var sweep = await ClosedLoop.SweepAsync(options.MaxConcurrency, options.WarmUp, options.Measure, Sign);
                pipeline.Add(sweep);
                cpu.Add(await CpuCost.PerSignatureAsync(cluster, ClosedLoop.Saturation(sweep).Concurrency, options.Measure, Sign));
                footprint.Record(cluster);

                using var kms = new DirectKms(cluster.Kms, budgetPerSecond: null);
                direct.Add(await ClosedLoop.SweepAsync(options.MaxConcurrency, options.WarmUp, options.Measure, kms.SignAsync));
            }

            var vhost = await TestServers.CreateRabbitVirtualHostAsync();
            try
            {
                await using var bare = await BareMassTransit.StartAsync(vhost, consumerConcurrency: 16, prefetch: 32);
                bus.Add(await ClosedLoop.SweepAsync(options.MaxConcurrency, options.WarmUp, options.Measure, async ct =>
                {
                    await bare.Client.GetResponse<BareResponse>(BareMassTransit.NewRequest(), ct);
                    return true;
                }));
            }
            finally
            {
                await TestServers.DeleteRabbitVirtualHostAsync(vhost);
            }

            await using (var bareHttp = await BareKestrel.StartAsync())
            {
                using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 }) { BaseAddress = new Uri(bareHttp.Url) };
                var body = new { payload = Convert.ToBase64String(new byte[100]), format = "raw" };
                kestrel.Add(await ClosedLoop.SweepAsync(options.MaxConcurrency, options.WarmUp, options.Measure, async ct =>
                {
                    using var response = await http.PostAsJsonAsync("/v1/sign", body, ct);
                    return response.StatusCode == HttpStatusCode.OK;
                }));
            }

            ecdsa.Add(RawEcdsa.SignsPerSecond(options.Measure));
        }

        var saturated = pipeline.Select(ClosedLoop.Saturation).ToList();
        var signs = Measured.Of(saturated.Select(s => s.PerSecond));
        var busCeiling = Measured.Of(bus.Select(b => ClosedLoop.Saturation(b).PerSecond));
        var httpCeiling = Measured.Of(kestrel.Select(k => ClosedLoop.Saturation(k).PerSecond));
        var directCeiling = Measured.Of(direct.Select(d => ClosedLoop.Saturation(d).PerSecond));
        const string name = "synchronous /v1/sign, rising concurrency, KMS answering at once";
        report.Rows.Add(new Row
        {
            Scenario = name, Figure = "signatures per second at saturation", Value = signs, Unit = "/s",
            Ceiling = "direct KMS: the AWS SDK against the same KMS server, no pipeline", CeilingValue = directCeiling, CeilingUnit = "/s",
            Ratio = signs.RatioTo(directCeiling),
        });
        report.Rows.Add(new Row
        {
            Scenario = name, Figure = "signatures per second at saturation", Value = signs, Unit = "/s",
            Ceiling = "bare MassTransit request/response, no-op consumer, same sizes", CeilingValue = busCeiling, CeilingUnit = "/s",
            Ratio = signs.RatioTo(busCeiling), Goal = "≥ 0.25 of the bus (stretch 0.5)", Met = signs.RatioTo(busCeiling) >= 0.25,
        });
        report.Rows.Add(new Row
        {
            Scenario = name, Figure = "signatures per second at saturation", Value = signs, Unit = "/s",
            Ceiling = "bare Kestrel endpoint", CeilingValue = httpCeiling, CeilingUnit = "/s", Ratio = signs.RatioTo(httpCeiling),
        });
        report.Rows.Add(new Row
        {
            Scenario = name, Figure = "signatures per second at saturation", Value = signs, Unit = "/s",
            Ceiling = "raw ECDSA P-256 signs, all cores", CeilingValue = Measured.Of(ecdsa.Select(e => e.All)), CeilingUnit = "/s",
            Ratio = signs.RatioTo(Measured.Of(ecdsa.Select(e => e.All))),
        });
        report.Rows.Add(new Row
        {
            Scenario = name, Figure = "p50 / p95 / p99 at saturation (ms)", Value = Measured.Of(saturated.Select(s => s.P50)), Unit = " ms",
            Ceiling = $"p95 {Measured.Of(saturated.Select(s => s.P95)).Format(" ms")}, p99 {Measured.Of(saturated.Select(s => s.P99)).Format(" ms")}; " +
                $"bus p99 at its saturation {Measured.Of(bus.Select(b => ClosedLoop.Saturation(b).P99)).Format(" ms")}",
        });
        CpuCost.AddRow(report, name, cpu);
        report.Curves.Add(Curves.Median("pipeline /v1/sign", pipeline));
        report.Curves.Add(Curves.Median("direct KMS", direct));
        report.Curves.Add(Curves.Median("bare MassTransit", bus));
        report.Curves.Add(Curves.Median("bare Kestrel", kestrel));
    }
}
