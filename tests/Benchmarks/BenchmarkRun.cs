using System.Runtime.InteropServices;
using EdgeSigner.Benchmarks.Reporting;
using EdgeSigner.Benchmarks.Scenarios;

namespace EdgeSigner.Benchmarks;

/// <summary>Runs the chosen scenarios in order and writes the report.</summary>
public static class BenchmarkRun
{
    public static async Task<BenchmarkReport> RunAsync(BenchOptions options, TextWriter progress)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progress);
        var report = new BenchmarkReport { Machine = Machine(), StartedAt = DateTimeOffset.UtcNow, Runs = options.Runs };
        var footprint = new Footprint();
        foreach (var scenario in options.Scenarios)
        {
            await progress.WriteLineAsync($"[bench] {DateTime.UtcNow:HH:mm:ss} {scenario}...");
            switch (scenario)
            {
                case "sync":
                    await SyncScenario.RunAsync(options, report, footprint);
                    break;
                case "kms":
                    await KmsBudgetScenario.RunAsync(options, report, footprint);
                    break;
                case "batch":
                    await BatchScenario.RunAsync(options, report, footprint);
                    break;
                case "audit":
                    await AuditIngestScenario.RunAsync(options, report);
                    break;
                case "rejections":
                    await RejectionScenario.RunAsync(options, report, footprint);
                    break;
                case "warmup":
                    await WarmUpScenario.RunAsync(options, report, footprint);
                    break;
            }

            await report.WriteAsync(options.Output); // what is done so far survives a later scenario's failure
        }

        footprint.AddRows(report);
        await report.WriteAsync(options.Output);
        return report;
    }

    private static string Machine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return $"{Environment.ProcessorCount} cores ({cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}), {memory:F0} GiB, " +
               $"{RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }
}
