using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeSigner.Benchmarks.Harness;
using EdgeSigner.Benchmarks.Measurement;
using EdgeSigner.Benchmarks.Reporting;
using EdgeSigner.Testing;

namespace EdgeSigner.Benchmarks.Scenarios;

/// <summary>
/// A large batch (in submissions of at most 10,000 items, the API's limit) against KMS with a latency and a budget:
/// completion time and the KMS rate beside the budget, throttles, and synchronous latency during the batch beside
/// the same load without it.
/// </summary>
public static class BatchScenario
{
    private const int SubmissionLimit = 10_000;

    public static async Task RunAsync(BenchOptions options, BenchmarkReport report, Footprint footprint)
    {
        var completion = new List<double>();
        var rates = new List<double>();
        var throttles = new List<double>();
        var idle = new List<LatencyHistogram>();
        var during = new List<LatencyHistogram>();
        var lost = new List<double>();
        for (var run = 0; run < options.Runs; run++)
        {
            await using var cluster = await Cluster.StartAsync(workers: 2, options.KmsBudget, TimeSpan.FromMilliseconds(options.KmsLatencyMs), options.KmsBudget,
                warmUp: options.ClusterWarmUp);
            using var client = await cluster.TenantClientAsync("bench");
            idle.Add(await SteadySyncAsync(client, options.Measure * 2, CancellationToken.None));

            var callsBefore = cluster.Kms.SignCalls;
            var watch = Stopwatch.StartNew();
            var batches = new List<string>();
            for (var offset = 0; offset < options.BatchItems; offset += SubmissionLimit)
            {
                var count = Math.Min(SubmissionLimit, options.BatchItems - offset);
                var submitted = await client.PostAsJsonAsync("/v1/batches", new
                {
                    items = Enumerable.Range(offset, count).Select(i => new { id = $"b{i}", payload = Convert.ToBase64String(BitConverter.GetBytes(i)) }),
                });
                submitted.EnsureSuccessStatusCode();
                batches.Add((await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batch_id").GetString()!);
            }

            using var stopSync = new CancellationTokenSource();
            var syncDuring = SteadySyncAsync(client, TimeSpan.FromHours(1), stopSync.Token);
            foreach (var batch in batches)
            {
                while ((await client.GetFromJsonAsync<JsonElement>($"/v1/batches/{batch}")).GetProperty("status").GetString() != "completed")
                {
                    await Task.Delay(100);
                }
            }

            var total = watch.Elapsed;
            await stopSync.CancelAsync();
            during.Add(await syncDuring);
            completion.Add(total.TotalSeconds);
            rates.Add((cluster.Kms.SignCalls - callsBefore) / total.TotalSeconds);
            throttles.Add(cluster.Kms.Throttles);
            var signed = await Sql.ScalarAsync<long>(cluster.Pipeline.Postgres,
                "SELECT count(DISTINCT item_id) FROM signer.sign_results WHERE batch_id IS NOT NULL AND signature IS NOT NULL");
            lost.Add(options.BatchItems - signed);
            footprint.Record(cluster);
        }

        var budget = new Measured(options.KmsBudget, options.KmsBudget, options.KmsBudget, 1);
        var floor = options.BatchItems / options.KmsBudget;
        var time = Measured.Of(completion);
        var rate = Measured.Of(rates);
        var name = $"{options.BatchItems:N0}-item batch, KMS {options.KmsLatencyMs} ms, budget {options.KmsBudget}/s, two workers";
        report.Rows.Add(new Row
        {
            Scenario = name, Figure = "completion time (submit to last item)", Value = time, Unit = " s",
            Ceiling = "items ÷ budget", CeilingValue = new Measured(floor, floor, floor, 1), CeilingUnit = " s", Ratio = floor / time.Median,
        });
        report.Rows.Add(new Row
        {
            Scenario = name, Figure = "KMS calls per second (batch plus the synchronous probe)", Value = rate, Unit = "/s",
            Ceiling = "the budget", CeilingValue = budget, CeilingUnit = "/s", Ratio = rate.RatioTo(budget), Goal = "≥ 0.97 of the budget",
            Met = rate.RatioTo(budget) >= 0.97,
        });
        report.Rows.Add(new Row { Scenario = name, Figure = "KMS throttles", Value = Measured.Of(throttles), Number = "F0", Ceiling = "goal", Goal = "0", Met = throttles.All(t => t == 0) });
        report.Rows.Add(new Row { Scenario = name, Figure = "items without a signature (lost)", Value = Measured.Of(lost), Number = "F0", Ceiling = "goal", Goal = "0", Met = lost.All(l => l == 0) });
        var p99During = Measured.Of(during.Select(h => h.PercentileMs(99)));
        var p99Idle = Measured.Of(idle.Select(h => h.PercentileMs(99)));
        report.Rows.Add(new Row
        {
            Scenario = name, Figure = $"synchronous p99 during the batch (p50 {Measured.Of(during.Select(h => h.PercentileMs(50))).Format(" ms")})",
            Value = p99During, Unit = " ms", Ceiling = $"the same load without the batch (p50 {Measured.Of(idle.Select(h => h.PercentileMs(50))).Format(" ms")})",
            CeilingValue = p99Idle, CeilingUnit = " ms", Ratio = p99During.RatioTo(p99Idle), Goal = "about 1 (unchanged)",
            Met = p99During.RatioTo(p99Idle) <= 1.25,
        });
    }

    /// <summary>A steady synchronous load (one caller, a request every 25 ms) until the time is up or it is cancelled.</summary>
    private static async Task<LatencyHistogram> SteadySyncAsync(HttpClient client, TimeSpan duration, CancellationToken cancellationToken)
    {
        var histogram = new LatencyHistogram();
        var until = Stopwatch.StartNew();
        var body = new { payload = "c3luYw==", format = "raw" };
        var n = 0;
        while (until.Elapsed < duration && !cancellationToken.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await client.PostAsJsonAsync("/v1/sign", body, CancellationToken.None);
            response.EnsureSuccessStatusCode();
            if (++n > 5)
            {
                histogram.Record(Stopwatch.GetElapsedTime(started)); // the first few warm the connection up
            }

            try
            {
                await Task.Delay(25, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return histogram;
    }
}
