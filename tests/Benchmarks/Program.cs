using EdgeSigner.Benchmarks;

// dotnet run -c Release --project tests/Benchmarks -- audit-ingest [events]
// dotnet run -c Release --project tests/Benchmarks -- kms-budget [rate] [latency-ms]
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
    default:
        Console.Error.WriteLine($"Unknown scenario '{scenario}'. Scenarios: audit-ingest [events], kms-budget [rate] [latency-ms].");
        return 2;
}
