using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace EdgeSigner.ServiceDefaults.Partitions;

/// <summary>
/// One retention run over a schema's partitioned tables (<see cref="PartitionSql"/>), in one transaction and by one
/// instance at a time (a transaction-scoped advisory lock; another instance holding it means this run is skipped):
/// creates the partitions from now to <c>ahead</c>, then drops, oldest first, every partition whose range ended at or
/// before its table's cutoff. Never a bulk DELETE. Times come from the caller's clock, never the database's.
/// </summary>
public static class PartitionRetention
{
    public sealed record Run(IReadOnlyList<string> Created, IReadOnlyList<string> Dropped);

    /// <summary>A partition about to be dropped: its table, its name, and its schema-qualified, quoted name for SQL.</summary>
    public sealed record Expired(string Table, string Name, string Quoted);

    /// <summary>
    /// What to run over which schema: the lock that makes it one instance's run, the time it runs as of, how far ahead
    /// partitions exist, each table's cutoff, and what to do with each expired partition just before it is dropped (in
    /// the same transaction).
    /// </summary>
    public sealed record Plan(
        string Schema, long LockKey, DateTimeOffset Now, DateTimeOffset Ahead, IReadOnlyDictionary<string, DateTimeOffset> Cutoffs,
        Func<Expired, Task>? BeforeDrop = null);

    /// <summary>The run, or null when another instance holds the plan's lock.</summary>
    public static async Task<Run?> RunAsync(DatabaseFacade database, Plan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(plan);
        var (schema, lockKey, now, ahead, cutoffs, beforeDrop) = plan;
        _ = PartitionSql.CreateFunctions(schema); // the schema's name is a plain identifier, or this throws
        await using var transaction = await database.BeginTransactionAsync(cancellationToken);
        if (!await database.SqlQuery<bool>($"SELECT pg_try_advisory_xact_lock({lockKey}) AS \"Value\"").SingleAsync(cancellationToken))
        {
            return null;
        }

        // The schema is a checked identifier; every value is a parameter.
        var ensure = $"SELECT {schema}.ensure_partitions({{0}}, {{1}}, {{2}}) AS \"Value\"";
        var list = $"SELECT partition_name AS \"Value\" FROM {schema}.partitions({{0}}) WHERE range_end <= {{1}} ORDER BY range_start";
        var created = await database.SqlQueryRaw<string>(ensure, cutoffs.Keys.ToArray(), now, ahead).ToListAsync(cancellationToken);
        var dropped = new List<string>();
        foreach (var (table, cutoff) in cutoffs)
        {
            var expired = await database.SqlQueryRaw<string>(list, table, cutoff).ToListAsync(cancellationToken);
            foreach (var partition in expired)
            {
                // Partition names come from the catalog ({schema}.partitions), never from input.
                var quoted = $"{schema}.\"{partition.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
                if (beforeDrop is not null)
                {
                    await beforeDrop(new Expired(table, partition, quoted));
                }

                var drop = "DROP TABLE " + quoted;
                await database.ExecuteSqlRawAsync(drop, cancellationToken);
                dropped.Add(partition);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return new Run(created, dropped);
    }
}
