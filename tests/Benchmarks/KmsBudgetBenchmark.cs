using EdgeSigner.Contracts.Signing;
using EdgeSigner.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeSigner.Benchmarks;

/// <summary>
/// Budget efficiency: two workers sharing one KMS budget against a KMS-compatible server with that quota and a
/// fixed latency, with demand far above the budget; KMS calls per second achieved beside the budget, and throttles.
/// </summary>
public static class KmsBudgetBenchmark
{
    public static async Task RunAsync(double budget, int latencyMs)
    {
        const int windowSeconds = 10;
        await using var pipeline = await Pipeline.CreateAsync();
        pipeline.Settings["EdgeSigner:KmsBudget:Regions:eu-central-1"] = budget.ToString(System.Globalization.CultureInfo.InvariantCulture);
        pipeline.Kms.QuotaPerSecond = budget;
        pipeline.Kms.SignLatency = TimeSpan.FromMilliseconds(latencyMs);
        await pipeline.StartAuditSinkAsync();
        var ingress = await pipeline.StartIngressAsync();

        var demand = (int)(budget * (windowSeconds + 6) * 1.5);
        var send = await ingress.Services.GetRequiredService<ISendEndpointProvider>().GetSendEndpoint(SignQueues.SignRequestedAddress);
        var now = DateTimeOffset.UtcNow;
        foreach (var chunk in Enumerable.Range(0, demand).Chunk(1000))
        {
            await send.SendBatch(chunk.Select(i => new SignRequested
            {
                RequestId = Guid.NewGuid(), TenantId = "bench", Kid = Pipeline.Kid, Format = "raw",
                TbsDigest = System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)), PayloadSize = 4,
                Deadline = now.AddMinutes(10), ReceivedAt = now,
            }));
        }

        var started = DateTimeOffset.UtcNow;
        await Task.WhenAll(pipeline.StartWorkerAsync(), pipeline.StartWorkerAsync());
        await Task.Delay(TimeSpan.FromSeconds(windowSeconds + 3));
        var from = started.AddSeconds(2);
        var calls = pipeline.Kms.SignCallsOf(Pipeline.CentralKmsKeyId).Count(c => c.At >= from && c.At < from.AddSeconds(windowSeconds));
        var achieved = calls / (double)windowSeconds;

        Console.WriteLine();
        Console.WriteLine($"| KMS budget, two workers, demand {demand} queued, KMS latency {latencyMs} ms | figure | ceiling measured beside it | ratio |");
        Console.WriteLine("| --- | --- | --- | --- |");
        Console.WriteLine($"| KMS calls per second over {windowSeconds} s | {achieved:F1}/s | the budget: {budget}/s | {achieved / budget:F3} |");
        Console.WriteLine($"| throttles returned by the KMS server | {pipeline.Kms.Throttles} | 0 | |");
    }
}
