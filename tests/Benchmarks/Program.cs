using EdgeSigner.Benchmarks;

// dotnet run -c Release --project tests/Benchmarks -- [--smoke] [--runs N] [--batch-items N] [--audit-events N] [--out DIR] [scenario ...]
// Scenarios: sync, kms, batch, audit, rejections (all by default). Needs RabbitMQ and PostgreSQL as the tests do
// (EDGESIGNER_TEST_RABBITMQ, EDGESIGNER_TEST_POSTGRES; scripts/benchmark.sh sets them up and runs this).
try
{
    if (args is ["--replot", var reportJson, var png])
    {
        EdgeSigner.Benchmarks.Reporting.Plot.FromReport(reportJson, png);
        return 0;
    }

    var options = BenchOptions.Parse(args);
    var report = await BenchmarkRun.RunAsync(options, Console.Out);
    Console.WriteLine();
    Console.WriteLine(report.ToMarkdown());
    Console.WriteLine($"Written to {Path.GetFullPath(options.Output)}: report.md, report.json, latency-throughput.png");
    return 0;
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}
