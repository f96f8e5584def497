using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using EdgeSigner.Testing;

namespace EdgeSigner.Benchmarks;

/// <summary>
/// A large batch against a KMS with a budget and a latency: completion time, the rate achieved beside the budget,
/// throttles, and synchronous <c>/v1/sign</c> latency during the batch beside the same without it.
/// </summary>
public static class BatchBenchmark
{
    public static async Task RunAsync(int items, double budget, int latencyMs)
    {
        await using var pipeline = await Pipeline.CreateAsync();
        pipeline.Settings["EdgeSigner:KmsBudget:Regions:eu-central-1"] = budget.ToString(System.Globalization.CultureInfo.InvariantCulture);
        pipeline.Settings["EdgeSigner:RateLimits:DefaultRatePerSecond"] = "100000";
        pipeline.Settings["EdgeSigner:RateLimits:DefaultBurst"] = "100000";
        pipeline.Kms.QuotaPerSecond = budget;
        pipeline.Kms.SignLatency = TimeSpan.FromMilliseconds(latencyMs);
        await pipeline.StartAuditSinkAsync();
        await pipeline.StartWorkerAsync();
        await pipeline.StartWorkerAsync();
        await pipeline.StartIngressAsync();
        using var client = await pipeline.CreateTenantClientAsync("bench");

        var idle = await SyncLatenciesAsync(client, TimeSpan.FromSeconds(5));

        var watch = Stopwatch.StartNew();
        var callsBefore = pipeline.Kms.SignCalls;
        var submitted = await client.PostAsJsonAsync("/v1/batches", new
        {
            items = Enumerable.Range(0, items).Select(i => new { id = $"b{i}", payload = Convert.ToBase64String(BitConverter.GetBytes(i)) }),
        });
        submitted.EnsureSuccessStatusCode();
        var batchId = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("batch_id").GetString();
        var acceptedAfter = watch.Elapsed;

        var during = await SyncLatenciesAsync(client, TimeSpan.FromSeconds(Math.Min(10, items / budget / 2)));
        while ((await client.GetFromJsonAsync<JsonElement>($"/v1/batches/{batchId}")).GetProperty("status").GetString() != "completed")
        {
            await Task.Delay(250);
        }

        var total = watch.Elapsed;
        var calls = pipeline.Kms.SignCalls - callsBefore;
        var rate = calls / total.TotalSeconds;

        Console.WriteLine();
        Console.WriteLine($"| {items}-item batch, budget {budget}/s, KMS latency {latencyMs} ms, two workers | figure | ceiling measured beside it | ratio |");
        Console.WriteLine("| --- | --- | --- | --- |");
        Console.WriteLine($"| completion time (202 after {acceptedAfter.TotalSeconds:F1} s) | {total.TotalSeconds:F1} s | items / budget: {items / budget:F1} s | {items / budget / total.TotalSeconds:F3} |");
        Console.WriteLine($"| KMS calls per second over the batch | {rate:F1}/s | the budget: {budget}/s | {rate / budget:F3} |");
        Console.WriteLine($"| throttles | {pipeline.Kms.Throttles} | 0 | |");
        Console.WriteLine($"| synchronous /v1/sign p50 / p99 during the batch | {Percentile(during, 0.5):F1} / {Percentile(during, 0.99):F1} ms | without the batch: {Percentile(idle, 0.5):F1} / {Percentile(idle, 0.99):F1} ms | p99 {Percentile(during, 0.99) / Percentile(idle, 0.99):F2} |");
    }

    private static async Task<List<double>> SyncLatenciesAsync(HttpClient client, TimeSpan duration)
    {
        var latencies = new List<double>();
        var end = DateTime.UtcNow + duration;
        while (DateTime.UtcNow < end)
        {
            var watch = Stopwatch.StartNew();
            var response = await client.PostAsJsonAsync("/v1/sign", new { payload = "c3luYw==" });
            watch.Stop();
            response.EnsureSuccessStatusCode();
            latencies.Add(watch.Elapsed.TotalMilliseconds);
            await Task.Delay(20); // about 40 requests a second: a steady synchronous load
        }

        return latencies.Skip(5).ToList(); // warm-up excluded
    }

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }
}
