using System.Collections.Concurrent;
using EdgeSigner.ServiceDefaults.RateLimiting;
using Npgsql;

namespace EdgeSigner.SignWorker.RateLimiting;

/// <summary>Where the shared KMS budget lives: PostgreSQL for any number of workers, memory for embedded mode's one.</summary>
public interface IKmsBudgetStore
{
    /// <summary>
    /// Takes up to <paramref name="wanted"/> tokens, but only tokens above <paramref name="reserve"/> and only when
    /// at least <paramref name="atLeast"/> are there; when it grants none, says how long until it would.
    /// </summary>
    Task<(int Granted, TimeSpan Wait)> LeaseAsync(string region, double rate, double burst, int wanted, double reserve, int atLeast,
        CancellationToken cancellationToken);
}

/// <summary>
/// One row per region in <c>signer.kms_budget</c>, leased from by <c>signer.lease_kms_tokens</c> in one statement on
/// the database's clock. The worker creates the table and function at start (idempotently, under a lock).
/// </summary>
public sealed class PostgresKmsBudgetStore(NpgsqlDataSource dataSource) : IKmsBudgetStore, IHostedService
{
    private const string Schema = """
        SELECT pg_advisory_xact_lock(4572104566105679107);
        CREATE SCHEMA IF NOT EXISTS signer;
        CREATE TABLE IF NOT EXISTS signer.kms_budget (
            region text PRIMARY KEY,
            tokens double precision NOT NULL,
            updated_at timestamptz NOT NULL);
        COMMENT ON TABLE signer.kms_budget IS 'The global KMS request budget per region, leased by sign workers in small blocks.';
        CREATE OR REPLACE FUNCTION signer.lease_kms_tokens(p_region text, p_rate double precision, p_burst double precision, p_wanted integer,
            p_reserve double precision, p_at_least integer)
        RETURNS TABLE (granted integer, wait_ms double precision)
        LANGUAGE plpgsql AS $$
        DECLARE
            v_now timestamptz := clock_timestamp();
            v_tokens double precision;
            v_updated timestamptz;
        BEGIN
            INSERT INTO signer.kms_budget (region, tokens, updated_at) VALUES (p_region, p_burst, v_now) ON CONFLICT (region) DO NOTHING;
            SELECT b.tokens, b.updated_at INTO v_tokens, v_updated FROM signer.kms_budget b WHERE b.region = p_region FOR UPDATE;
            v_tokens := least(p_burst, v_tokens + greatest(0, extract(epoch FROM v_now - v_updated)) * p_rate);
            granted := greatest(0, least(p_wanted, floor(v_tokens - p_reserve)))::integer;
            IF granted < least(p_wanted, p_at_least) THEN
                granted := 0;
            END IF;
            v_tokens := v_tokens - granted;
            wait_ms := CASE WHEN granted > 0 THEN 0 ELSE greatest(0, p_reserve + least(p_wanted, p_at_least) - v_tokens) / p_rate * 1000 END;
            UPDATE signer.kms_budget SET tokens = v_tokens, updated_at = greatest(v_updated, v_now) WHERE region = p_region;
            RETURN NEXT;
        END $$;
        """;

    public async Task<(int Granted, TimeSpan Wait)> LeaseAsync(string region, double rate, double burst, int wanted, double reserve, int atLeast,
        CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT granted, wait_ms FROM signer.lease_kms_tokens($1, $2, $3, $4, $5, $6)");
        command.Parameters.AddWithValue(region);
        command.Parameters.AddWithValue(rate);
        command.Parameters.AddWithValue(burst);
        command.Parameters.AddWithValue(wanted);
        command.Parameters.AddWithValue(reserve);
        command.Parameters.AddWithValue(atLeast);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt32(0), TimeSpan.FromMilliseconds(reader.GetDouble(1)));
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = new NpgsqlCommand(Schema, connection, transaction))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Embedded mode: one process, so the shared bucket is a token bucket in memory.</summary>
public sealed class InMemoryKmsBudgetStore(TimeProvider time) : IKmsBudgetStore
{
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _gate = new();

    public Task<(int Granted, TimeSpan Wait)> LeaseAsync(string region, double rate, double burst, int wanted, double reserve, int atLeast,
        CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var minimum = Math.Min(wanted, atLeast);
        lock (_gate)
        {
            var bucket = _buckets.GetValueOrDefault(region, TokenBucket.Full(burst, now)).Refill(now, rate, burst);
            if (bucket.Tokens - reserve < minimum)
            {
                _buckets[region] = bucket;
                return Task.FromResult((0, bucket.TimeUntilToken(rate, reserve, minimum)));
            }

            var (granted, next) = bucket.Take(now, rate, burst, wanted, reserve);
            _buckets[region] = next;
            return Task.FromResult((granted, TimeSpan.Zero));
        }
    }
}
