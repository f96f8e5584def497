using System.Collections.Concurrent;
using EdgeSigner.Guardrails.RateLimiting;
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
/// One row per region in <c>signer.kms_budget</c>, leased from by <c>signer.take_tokens</c> (the shared token-bucket
/// function, created by the KmsBudget migration) in one statement on the database's clock.
/// </summary>
public sealed class PostgresKmsBudgetStore(NpgsqlDataSource dataSource) : IKmsBudgetStore
{
    public async Task<(int Granted, TimeSpan Wait)> LeaseAsync(string region, double rate, double burst, int wanted, double reserve, int atLeast,
        CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT granted, wait_ms FROM signer.take_tokens($1, $2, $3, $4, $5, $6)");
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
        lock (_gate)
        {
            var bucket = _buckets.GetValueOrDefault(region, TokenBucket.Full(burst, now));
            var (granted, next) = bucket.Take(now, rate, burst, wanted, reserve, atLeast);
            _buckets[region] = next;
            return Task.FromResult((granted, granted > 0 ? TimeSpan.Zero : next.TimeUntilToken(rate, reserve, Math.Min(wanted, atLeast))));
        }
    }
}
