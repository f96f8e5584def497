using System.Globalization;

namespace EdgeSigner.Benchmarks;

/// <summary>How long and how hard: the full run's defaults, or a smoke run's few seconds.</summary>
public sealed record BenchOptions
{
    public int Runs { get; init; } = 3;
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan Measure { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>Load thrown away after a cluster starts, before anything is measured (the JIT settles).</summary>
    public TimeSpan ClusterWarmUp { get; init; } = TimeSpan.FromSeconds(25);
    public int MaxConcurrency { get; init; } = 64;

    /// <summary>The warm-up scenario: load from ready for this long, counted per window; how many runtime variants.</summary>
    public TimeSpan WarmUpLength { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan WarmUpWindow { get; init; } = TimeSpan.FromSeconds(2.5);
    public int? WarmUpVariants { get; init; }

    public int BatchItems { get; init; } = 100_000;
    public int AuditEvents { get; init; } = 50_000;
    public double KmsBudget { get; init; } = 1000; // AWS KMS's default ECC signing quota per account and region
    public int KmsLatencyMs { get; init; } = 20;
    public string Output { get; init; } = Path.Combine("results", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
    public IReadOnlyList<string> Scenarios { get; init; } = All;

    public static readonly IReadOnlyList<string> All = ["sync", "kms", "batch", "audit", "rejections", "warmup"];

    /// <summary>A few seconds of tiny load: proves every scenario still runs and reports, measures nothing.</summary>
    public static BenchOptions Smoke(string output) => new()
    {
        Runs = 1,
        WarmUp = TimeSpan.FromMilliseconds(200),
        Measure = TimeSpan.FromMilliseconds(500),
        ClusterWarmUp = TimeSpan.FromMilliseconds(500),
        MaxConcurrency = 2,
        WarmUpLength = TimeSpan.FromSeconds(2),
        WarmUpWindow = TimeSpan.FromMilliseconds(500),
        WarmUpVariants = 1,
        BatchItems = 200,
        AuditEvents = 500,
        KmsBudget = 200,
        KmsLatencyMs = 5,
        Output = output,
    };

    /// <summary><c>[--smoke] [--runs N] [--batch-items N] [--audit-events N] [--out DIR] [scenario ...]</c></summary>
    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = args.Contains("--smoke") ? Smoke(Path.Combine("results", "smoke")) : new BenchOptions();
        var scenarios = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--smoke":
                    break;
                case "--runs":
                    options = options with { Runs = int.Parse(args[++i], CultureInfo.InvariantCulture) };
                    break;
                case "--batch-items":
                    options = options with { BatchItems = int.Parse(args[++i], CultureInfo.InvariantCulture) };
                    break;
                case "--audit-events":
                    options = options with { AuditEvents = int.Parse(args[++i], CultureInfo.InvariantCulture) };
                    break;
                case "--out":
                    options = options with { Output = args[++i] };
                    break;
                case var name when All.Contains(name):
                    scenarios.Add(name);
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'. Scenarios: {string.Join(", ", All)}.");
            }
        }

        return scenarios.Count == 0 ? options : options with { Scenarios = scenarios };
    }
}
