using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.Contracts.Admin;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EdgeSigner.AuditSink.Tests;

/// <summary>Ingest through the bus: exactly once under redelivery, whole batches or nothing, and nothing lost across a database outage.</summary>
[Collection(SinkCounters.Collection)]
public sealed class IngestReliabilityTests
{
    [Fact]
    public async Task A_redelivered_admin_action_leaves_one_trail_row_and_the_chain_intact()
    {
        await using var db = await AuditDb.StartAsync();
        var bus = db.Services.GetRequiredService<IBus>();
        var action = new AdminActionRecorded
        {
            EventId = Guid.NewGuid(), OccurredAt = DateTimeOffset.UtcNow, Actor = "admin", SourceAddress = "10.1.2.3",
            Action = "tenants.disable", Target = "acme", Outcome = "allowed", StatusCode = 200, Before = "{}", After = "{\"disabled\":true}",
        };
        var marker = action with { EventId = Guid.NewGuid(), Action = "tenants.enable" };

        await bus.Publish(action);
        await bus.Publish(action);
        await bus.Publish(action with { Target = "changed" });
        await bus.Publish(marker);

        // Proof that all four were consumed: the sink counts two written (the action, the marker) and two duplicates.
        var counted = await Eventually.GetAsync(
            () => SinkCounters.ByResultAsync(db.Pipeline.AuditSink!.Url, "admin_action"),
            c => c.GetValueOrDefault("written") + c.GetValueOrDefault("duplicate") >= 4, what: "four admin actions consumed");
        Assert.Equal((2d, 2d), (counted["written"], counted["duplicate"]));
        Assert.Equal(1L, await CountAsync(db, "audit.audit_trail", marker.EventId));
        Assert.Equal(1L, await CountAsync(db, "audit.audit_trail", action.EventId));
        Assert.Equal("acme", (string)(await db.QueryAsync("SELECT target FROM audit.audit_trail WHERE event_id = @id", ("id", action.EventId)))[0][0]!);
        var verified = await db.QueryAsync("SELECT verified FROM audit.verify_trail('0001-01-01', now() + interval '1 day')");
        Assert.Equal(true, verified[0][0]);
    }

    [Fact]
    public async Task A_batch_that_fails_midway_leaves_nothing_half_written_and_is_retried_until_it_is_stored_once()
    {
        await using var db = await AuditDb.StartAsync(s => s["EdgeSigner:AuditSink:BatchTimeLimitMs"] = "500");
        // The first insert of a batch holding tenant 'flaky' fails inside the statement, after earlier rows of the same
        // statement were inserted. A sequence counts the attempts outside the (rolled back) transaction.
        await db.ExecuteAsync("""
            CREATE SEQUENCE public.flaky_attempts;
            CREATE FUNCTION public.fail_first_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.tenant_id = 'flaky' AND nextval('public.flaky_attempts') = 1 THEN
                    RAISE EXCEPTION 'injected failure in the middle of a batch';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER fail_first_attempt BEFORE INSERT ON audit.sign_events FOR EACH ROW EXECUTE FUNCTION public.fail_first_attempt();
            """);
        var bus = db.Services.GetRequiredService<IBus>();
        var steady = Enumerable.Range(0, 5).Select(_ => new SignSucceeded { EventId = Guid.NewGuid(), Log = AuditDb.Log("steady", DateTimeOffset.UtcNow) }).ToList();
        var flaky = new SignSucceeded { EventId = Guid.NewGuid(), Log = AuditDb.Log("flaky", DateTimeOffset.UtcNow) };

        await bus.PublishBatch(steady.Take(3).Append(flaky).Concat(steady.Skip(3)));

        await Eventually.GetAsync(() => CountAllAsync(db, "SELECT count(*) FROM audit.sign_events"), n => n == 6, TimeSpan.FromSeconds(20), "the retried batch");
        Assert.True(await CountAllAsync(db, "SELECT last_value FROM public.flaky_attempts") >= 2, "the first attempt failed and a retry followed");
        Assert.Equal(6L, await CountAllAsync(db, "SELECT count(DISTINCT event_id) FROM audit.sign_events"));
        Assert.Equal(1L, await CountAllAsync(db, "SELECT count(*) FROM audit.sign_events WHERE tenant_id = 'flaky'"));
    }

    [Fact]
    public async Task Events_sent_while_postgresql_is_down_are_all_written_when_it_returns()
    {
        await using var postgres = await LocalPostgres.StartAsync();
        await using var db = await AuditDb.StartAsync(s => s["ConnectionStrings:Audit"] = postgres.ConnectionString);
        var local = new AuditDbOn(postgres.ConnectionString);
        var bus = db.Services.GetRequiredService<IBus>();

        var before = Enumerable.Range(0, 20).Select(i => Event("before")).ToList();
        await bus.PublishBatch(before);
        await Eventually.GetAsync(() => local.CountAsync("before"), n => n == 20, what: "the events before the outage");

        await postgres.StopServerAsync();
        var during = Enumerable.Range(0, 50).Select(i => Event("during")).ToList();
        await bus.PublishBatch(during);
        await Task.Delay(TimeSpan.FromSeconds(4)); // the sink tries, fails, and keeps the batches in the queue
        await postgres.StartServerAsync();

        await Eventually.GetAsync(() => local.CountAsync("during"), n => n == 50, TimeSpan.FromSeconds(60), "every event sent during the outage");
        Assert.Equal(70L, await local.CountDistinctAsync());
    }

    private static SignAttempted Event(string tenant) => new() { EventId = Guid.NewGuid(), Log = AuditDb.Log(tenant, DateTimeOffset.UtcNow) };

    private sealed class AuditDbOn(string connectionString)
    {
        public async Task<long> CountAsync(string tenant)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand("SELECT count(*) FROM audit.sign_events WHERE tenant_id = @t", connection);
                command.Parameters.AddWithValue("t", tenant);
                return (long)(await command.ExecuteScalarAsync())!;
            }
            catch (NpgsqlException)
            {
                return -1; // the server is still coming back
            }
        }

        public async Task<long> CountDistinctAsync()
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT count(DISTINCT event_id) FROM audit.sign_events", connection);
            return (long)(await command.ExecuteScalarAsync())!;
        }
    }

    private static async Task<long> CountAsync(AuditDb db, string table, Guid eventId) =>
        (long)(await db.QueryAsync($"SELECT count(*) FROM {table} WHERE event_id = @id", ("id", eventId)))[0][0]!;

    private static async Task<long> CountAllAsync(AuditDb db, string sql) => (long)(await db.QueryAsync(sql))[0][0]!;
}
