using EdgeSigner.Benchmarks;

// dotnet run -c Release --project tests/Benchmarks -- audit-ingest [events]
// dotnet run -c Release --project tests/Benchmarks -- kms-budget [rate] [latency-ms]
// dotnet run -c Release --project tests/Benchmarks -- batch [items] [budget] [latency-ms]
// Needs RabbitMQ and PostgreSQL as the tests do (EDGESIGNER_TEST_RABBITMQ, EDGESIGNER_TEST_POSTGRES; scripts/test.sh sets them up).
var scenario = args.FirstOrDefault() ?? "audit-ingest";
switch (scenario)
{
    case "audit-ingest":
        var events = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 50_000;
        await AuditIngestBenchmark.RunAsync(events);
        return 0;
    case "kms-budget":
        var rate = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 500;
        var latency = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 20;
        await KmsBudgetBenchmark.RunAsync(rate, latency);
        return 0;
    case "batch":
        var count = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10_000;
        var batchBudget = args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 500;
        var batchLatency = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 20;
        await BatchBenchmark.RunAsync(count, batchBudget, batchLatency);
        return 0;
    default:
        Console.Error.WriteLine($"Unknown scenario '{scenario}'. Scenarios: audit-ingest [events], kms-budget [rate] [latency-ms], batch [items] [budget] [latency-ms].");
        return 2;
}
