using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.AuditSink.Data;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Testing;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EdgeSigner.AuditSink.Tests;

/// <summary>The sink on real RabbitMQ and PostgreSQL: migrations at start, one row per event id, rows read back.</summary>
[Collection(SinkCounters.Collection)]
public sealed class SignEventIngestTests : IAsyncLifetime
{
    private Pipeline _pipeline = null!;

    public async Task InitializeAsync()
    {
        _pipeline = await Pipeline.CreateAsync();
        await _pipeline.StartAuditSinkAsync();
    }

    [Fact]
    public async Task Migrations_create_the_audit_schema_at_start()
    {
        var tables = await QueryAsync<string>(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'audit' ORDER BY table_name");
        Assert.Contains("sign_events", tables);
        Assert.Contains("__EFMigrationsHistory", tables);
    }

    [Fact]
    public async Task A_redelivered_event_leaves_one_row_with_every_field()
    {
        var bus = _pipeline.AuditSink!.Services.GetRequiredService<IBus>();
        var duplicated = new SignSucceeded { EventId = Guid.NewGuid(), Log = Log(Guid.NewGuid()) };
        var marker = new SignFailed { EventId = Guid.NewGuid(), Log = Log(Guid.NewGuid()) with { Success = false, ErrorType = "signing_failed", ErrorMessage = "eu-central-1 backend: NotFoundException" } };

        await bus.Publish(duplicated);
        await bus.Publish(duplicated);
        await bus.Publish(duplicated with { Log = duplicated.Log with { TKmsMs = 999 } }); // same id, other content: still the first row
        await bus.Publish(marker);

        // Proof that all three copies were consumed: the sink counts one written and two duplicates of the type.
        await Eventually.GetAsync(() => CountAsync(marker.EventId), n => n == 1, what: "the marker event's row");
        var counted = await Eventually.GetAsync(
            () => SinkCounters.ByResultAsync(_pipeline.AuditSink.Url, "edge_sign_success"),
            c => c.GetValueOrDefault("written") + c.GetValueOrDefault("duplicate") >= 3, what: "three copies consumed");
        Assert.Equal((1d, 2d), (counted["written"], counted["duplicate"]));
        Assert.Equal(1L, await CountAsync(duplicated.EventId));

        await using var connection = new NpgsqlConnection(_pipeline.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT event_type, request_id, tenant_id, region, t_wasm_ms, t_kms_ms, t_total_ms, cpu_ms_used, memory_mb_used,
                   tbs_hash, kms_key_id, kms_region, success, retry_count, fallback_triggered, signing_mode, kid, format,
                   payload_size, batch_id, item_id, error_type, error_message
            FROM audit.sign_events WHERE event_id = @id
            """, connection);
        command.Parameters.AddWithValue("id", duplicated.EventId);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var log = duplicated.Log;
        Assert.Equal("edge_sign_success", reader.GetString(0));
        Assert.Equal(log.RequestId, reader.GetGuid(1));
        Assert.Equal((log.TenantId, log.Region), (reader.GetString(2), reader.GetString(3)));
        Assert.Equal((log.TWasmMs, log.TKmsMs, log.TTotalMs, log.CpuMsUsed, log.MemoryMbUsed),
            (reader.GetDouble(4), reader.GetDouble(5), reader.GetDouble(6), reader.GetDouble(7), reader.GetDouble(8)));
        Assert.Equal((log.TbsHash, log.KmsKeyId, log.KmsRegion, log.Success, log.RetryCount, log.FallbackTriggered),
            (reader.GetString(9), reader.GetString(10), reader.GetString(11), reader.GetBoolean(12), reader.GetInt32(13), reader.GetBoolean(14)));
        Assert.Equal((log.SigningMode, log.Kid, log.Format, log.PayloadSize, log.BatchId, log.ItemId),
            (reader.GetString(15), reader.GetString(16), reader.GetString(17), reader.GetInt32(18), reader.GetGuid(19), reader.GetString(20)));
        Assert.True(reader.IsDBNull(21) && reader.IsDBNull(22));
    }

    [Fact]
    public async Task The_writer_stores_a_batch_whole_and_skips_ids_already_stored()
    {
        await using var scope = _pipeline.AuditSink!.Services.CreateAsyncScope();
        var writer = scope.ServiceProvider.GetRequiredService<SignEventWriter>();
        var first = (Guid.NewGuid(), SignEventWriter.AttemptType, Log(Guid.NewGuid()));
        var second = (Guid.NewGuid(), SignEventWriter.SuccessType, Log(Guid.NewGuid()));

        Assert.Equal(1, (await writer.WriteAsync([first], CancellationToken.None)).Written);
        Assert.Equal(1, (await writer.WriteAsync([first, second], CancellationToken.None)).Written);
        Assert.Equal(0, (await writer.WriteAsync([first, second], CancellationToken.None)).Written);

        var db = scope.ServiceProvider.GetRequiredService<AuditDbContext>();
        Assert.Equal(2, await db.SignEvents.CountAsync(e => e.EventId == first.Item1 || e.EventId == second.Item1));
    }

    private static EdgeSignerLog Log(Guid requestId) => new()
    {
        RequestId = requestId,
        TenantId = "acme",
        Timestamp = DateTimeOffset.UtcNow,
        Region = "eu-west-1",
        TWasmMs = 0.25,
        TKmsMs = 21.5,
        TTotalMs = 30.75,
        CpuMsUsed = 1.5,
        MemoryMbUsed = 120.5,
        TbsHash = new string('a', 64),
        KmsKeyId = "arn:aws:kms:eu-central-1:000000000000:key/central",
        KmsRegion = "eu-central-1",
        Success = true,
        RetryCount = 1,
        FallbackTriggered = true,
        SigningMode = "central-fallback",
        Kid = "es256-test",
        Format = "jws",
        PayloadSize = 1234,
        BatchId = Guid.NewGuid(),
        ItemId = "item-7",
    };

    private Task<long> CountAsync(Guid eventId) =>
        Sql.ScalarAsync<long>(_pipeline.Postgres, "SELECT count(*) FROM audit.sign_events WHERE event_id = @id", ("id", eventId));

    private Task<List<object?[]>> QueryAsync(string sql) => Sql.QueryAsync(_pipeline.Postgres, sql);

    private async Task<List<T>> QueryAsync<T>(string sql) => (await QueryAsync(sql)).Select(r => (T)r[0]!).ToList();

    public async Task DisposeAsync() => await _pipeline.DisposeAsync();
}
