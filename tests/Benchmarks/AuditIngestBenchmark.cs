using System.Diagnostics;
using System.Globalization;
using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EdgeSigner.Benchmarks;

/// <summary>
/// The audit sink's ingest, beside its ceiling measured in the same run: events written per second when draining
/// a backlog through RabbitMQ into PostgreSQL (nothing lost: every event is counted back), the event-to-row lag
/// under a steady flow, and the binary COPY rate of the same rows into the same table.
/// </summary>
public static class AuditIngestBenchmark
{
    public static async Task RunAsync(int events)
    {
        await using var pipeline = await Pipeline.CreateAsync();
        var sinkA = await pipeline.StartAuditSinkAsync(); // declares the queue and its bindings

        // 1. Backlog drain: publish every event first, then let a fresh sink empty the queue.
        await sinkA.DisposeAsync();
        var backlog = Enumerable.Range(0, events).Select(_ => Event(DateTimeOffset.UtcNow)).ToList();
        var rabbit = new Uri(pipeline.RabbitMq);
        var user = rabbit.UserInfo.Split(':');
        var publishBus = Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host(rabbit, h =>
        {
            h.Username(Uri.UnescapeDataString(user[0]));
            h.Password(Uri.UnescapeDataString(user[1]));
        }));
        await publishBus.StartAsync();
        var publishWatch = Stopwatch.StartNew();
        foreach (var chunk in backlog.Chunk(1000))
        {
            await publishBus.PublishBatch(chunk);
        }

        publishWatch.Stop();
        Console.WriteLine($"published {events} events in {publishWatch.Elapsed.TotalSeconds:F1} s ({events / publishWatch.Elapsed.TotalSeconds:F0}/s, publisher confirms on)");

        var already = await CountAsync(pipeline.Postgres);
        var drainWatch = Stopwatch.StartNew();
        await pipeline.StartAuditSinkAsync();
        while (await CountAsync(pipeline.Postgres) < events)
        {
            await Task.Delay(50);
        }

        drainWatch.Stop();
        var drainRate = (events - already) / drainWatch.Elapsed.TotalSeconds;
        var distinct = await ScalarAsync(pipeline.Postgres, "SELECT count(DISTINCT event_id) FROM audit.sign_events");

        // 2. Lag under a steady flow: events published at a fixed rate; lag = row written - event time.
        await ExecuteAsync(pipeline.Postgres, "TRUNCATE audit.sign_events");
        var flowBus = publishBus;
        const int flowRate = 2000;
        const int flowSeconds = 10;
        var flowWatch = Stopwatch.StartNew();
        for (var tick = 0; tick < flowSeconds * 10; tick++)
        {
            await flowBus.PublishBatch(Enumerable.Range(0, flowRate / 10).Select(_ => Event(DateTimeOffset.UtcNow)));
            var next = TimeSpan.FromMilliseconds((tick + 1) * 100);
            if (flowWatch.Elapsed < next)
            {
                await Task.Delay(next - flowWatch.Elapsed);
            }
        }

        while (await CountAsync(pipeline.Postgres) < flowRate * flowSeconds)
        {
            await Task.Delay(50);
        }

        var lagP50 = await ScalarDoubleAsync(pipeline.Postgres, "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM recorded_at - \"timestamp\") * 1000) FROM audit.sign_events");
        var lagP99 = await ScalarDoubleAsync(pipeline.Postgres, "SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM recorded_at - \"timestamp\") * 1000) FROM audit.sign_events");

        // The writer alone (no broker): the same rows in batches of the sink's size, one statement each.
        await ExecuteAsync(pipeline.Postgres, "TRUNCATE audit.sign_events");
        var writerWatch = Stopwatch.StartNew();
        await using (var scope = pipeline.AuditSink!.Services.CreateAsyncScope())
        {
            var writer = scope.ServiceProvider.GetRequiredService<SignEventWriter>();
            foreach (var chunk in backlog.Chunk(100))
            {
                await writer.WriteAsync(chunk.Select(e => (e.EventId, SignEventWriter.SuccessType, e.Log)).ToList(), CancellationToken.None);
            }
        }

        writerWatch.Stop();
        var writerRate = events / writerWatch.Elapsed.TotalSeconds;

        // 3. The ceiling: binary COPY of the same rows into the same (empty) table, in one stream.
        await ExecuteAsync(pipeline.Postgres, "TRUNCATE audit.sign_events");
        var copyWatch = Stopwatch.StartNew();
        await CopyAsync(pipeline.Postgres, backlog);
        copyWatch.Stop();
        var copyRate = events / copyWatch.Elapsed.TotalSeconds;

        Console.WriteLine();
        Console.WriteLine($"| audit sink ingest ({events} events) | figure | ceiling measured beside it | ratio |");
        Console.WriteLine("| --- | --- | --- | --- |");
        Console.WriteLine($"| events written per second (backlog drain, RabbitMQ to PostgreSQL) | {drainRate:F0}/s | binary COPY of the same rows: {copyRate:F0}/s | {drainRate / copyRate:F2} |");
        Console.WriteLine($"| the writer alone, batches of 100, no broker | {writerRate:F0}/s | binary COPY: {copyRate:F0}/s | {writerRate / copyRate:F2} |");
        Console.WriteLine($"| events lost (published - distinct rows) | {events - distinct} | 0 | |");
        Console.WriteLine($"| lag event to row at {flowRate}/s for {flowSeconds} s | p50 {lagP50:F0} ms, p99 {lagP99:F0} ms | goal p99 < 2000 ms | |");
        Console.WriteLine();
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
        await publishBus.StopAsync();
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

    private static Task<long> CountAsync(string connectionString) => ScalarAsync(connectionString, "SELECT count(*) FROM audit.sign_events");

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private static async Task<double> ScalarDoubleAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToDouble(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
