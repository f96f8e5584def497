using System.Diagnostics;
using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.Benchmarks.Reporting;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Testing;
using MassTransit;
using Npgsql;

namespace EdgeSigner.Benchmarks.Scenarios;

/// <summary>
/// The audit sink (a process of its own) draining a backlog of sign events from RabbitMQ into PostgreSQL, every
/// event counted back, beside a binary COPY of the same rows into the same table; and the event-to-row lag under a
/// steady flow at 80 % of the drain rate.
/// </summary>
public static class AuditIngestScenario
{
    public static async Task RunAsync(BenchOptions options, BenchmarkReport report)
    {
        var drain = new List<double>();
        var copy = new List<double>();
        var lagP99 = new List<double>();
        var lost = new List<double>();
        var flows = new List<double>();
        for (var run = 0; run < options.Runs; run++)
        {
            await using var pipeline = await Pipeline.CreateAsync();
            // A first sink declares the queue and its bindings, then stops: the backlog waits in the queue.
            await (await ServiceProcess.StartAsync("EdgeSigner.AuditSink", pipeline.Settings)).DisposeAsync();
            var backlog = Enumerable.Range(0, options.AuditEvents).Select(_ => Event(DateTimeOffset.UtcNow)).ToList();
            var bus = await PublisherAsync(pipeline.RabbitMq);
            try
            {
                foreach (var chunk in backlog.Chunk(1000))
                {
                    await bus.PublishBatch(chunk);
                }

                var watch = Stopwatch.StartNew();
                await using (await ServiceProcess.StartAsync("EdgeSigner.AuditSink", pipeline.Settings))
                {
                    while (await CountAsync(pipeline.Postgres) < options.AuditEvents && watch.Elapsed < TimeSpan.FromMinutes(10))
                    {
                        await Task.Delay(50);
                    }

                    var drained = watch.Elapsed;
                    drain.Add(options.AuditEvents / drained.TotalSeconds);
                    lost.Add(options.AuditEvents - await Sql.ScalarAsync<long>(pipeline.Postgres, "SELECT count(DISTINCT event_id) FROM audit.sign_events"));

                    // Lag at a steady 80 % of what this run drained, for a few seconds.
                    await Sql.ExecuteAsync(pipeline.Postgres, "TRUNCATE audit.sign_events");
                    var rate = (int)Math.Max(10, drain[^1] * 0.8);
                    flows.Add(rate);
                    var seconds = Math.Max(1, (int)options.Measure.TotalSeconds * 2);
                    var flow = Stopwatch.StartNew();
                    for (var tick = 0; tick < seconds * 10; tick++)
                    {
                        await bus.PublishBatch(Enumerable.Range(0, rate / 10).Select(_ => Event(DateTimeOffset.UtcNow)));
                        var next = TimeSpan.FromMilliseconds((tick + 1) * 100);
                        if (flow.Elapsed < next)
                        {
                            await Task.Delay(next - flow.Elapsed);
                        }
                    }

                    var expected = rate / 10 * seconds * 10;
                    while (await CountAsync(pipeline.Postgres) < expected && flow.Elapsed < TimeSpan.FromMinutes(5))
                    {
                        await Task.Delay(50);
                    }

                    lagP99.Add(await Sql.ScalarAsync<double>(pipeline.Postgres,
                        "SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM recorded_at - \"timestamp\") * 1000) FROM audit.sign_events"));
                }

                // The ceiling: binary COPY of the same rows into the same, emptied table, in one stream.
                await Sql.ExecuteAsync(pipeline.Postgres, "TRUNCATE audit.sign_events");
                var copyWatch = Stopwatch.StartNew();
                await CopyAsync(pipeline.Postgres, backlog);
                copy.Add(options.AuditEvents / copyWatch.Elapsed.TotalSeconds);
            }
            finally
            {
                await bus.StopAsync();
            }
        }

        var written = Measured.Of(drain);
        var ceiling = Measured.Of(copy);
        var name = $"audit sink ingest, {options.AuditEvents:N0}-event backlog";
        report.Rows.Add(new Row
        {
            Scenario = name, Figure = "events written per second (RabbitMQ to PostgreSQL)", Value = written, Unit = "/s", Number = "F0",
            Ceiling = "binary COPY of the same rows", CeilingValue = ceiling, CeilingUnit = "/s", Ratio = written.RatioTo(ceiling),
            Goal = "≥ 0.5 of COPY", Met = written.RatioTo(ceiling) >= 0.5,
        });
        var lag = Measured.Of(lagP99);
        report.Rows.Add(new Row
        {
            Scenario = name, Figure = $"lag event to row, p99, at {Measured.Of(flows).Format("/s", "F0")} (80 % of the drain rate)", Value = lag, Unit = " ms", Number = "F0",
            Ceiling = "goal", CeilingValue = new Measured(2000, 2000, 2000, 1), CeilingUnit = " ms", Ratio = lag.Median / 2000, Goal = "< 2 s", Met = lag.Median < 2000,
        });
        report.Rows.Add(new Row { Scenario = name, Figure = "events lost", Value = Measured.Of(lost), Number = "F0", Ceiling = "goal", Goal = "0", Met = lost.All(l => l == 0) });
    }

    private static async Task<IBusControl> PublisherAsync(string amqpUri)
    {
        var rabbit = new Uri(amqpUri);
        var user = rabbit.UserInfo.Split(':', 2);
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host(rabbit, h =>
        {
            h.Username(Uri.UnescapeDataString(user[0]));
            h.Password(Uri.UnescapeDataString(user[1]));
        }));
        await bus.StartAsync();
        return bus;
    }

    private static SignSucceeded Event(DateTimeOffset at) => new()
    {
        EventId = Guid.NewGuid(),
        Log = new EdgeSignerLog
        {
            RequestId = Guid.NewGuid(), TenantId = "bench", Timestamp = at, Region = "eu-west-1", TWasmMs = 0.1, TKmsMs = 20, TTotalMs = 25,
            CpuMsUsed = 0.3, MemoryMbUsed = 120, TbsHash = new string('c', 64), KmsKeyId = "edge-key", KmsRegion = "eu-west-1", Success = true,
            SigningMode = "edge-tbs+remote-es256", Kid = "es256-bench", Format = "raw", PayloadSize = 512,
        },
    };

    private static async Task CopyAsync(string connectionString, List<SignSucceeded> events)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var import = await connection.BeginBinaryImportAsync($"COPY audit.sign_events ({SignEventCopy.ColumnList}) FROM STDIN (FORMAT BINARY)");
        await SignEventCopy.WriteRowsAsync(import, events.Select(e => (e.EventId, SignEventWriter.SuccessType, e.Log)), DateTimeOffset.UtcNow, CancellationToken.None);
        await import.CompleteAsync();
    }

    private static Task<long> CountAsync(string connectionString) => Sql.ScalarAsync<long>(connectionString, "SELECT count(*) FROM audit.sign_events");
}
