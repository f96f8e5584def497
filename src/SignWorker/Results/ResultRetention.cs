using EdgeSigner.SignWorker.Data;
using EdgeSigner.ServiceDefaults.Partitions;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.SignWorker.Results;

/// <summary>How the results past their retention go; one implementation per store, chosen at registration.</summary>
public interface IResultRetention
{
    /// <summary>One run as of <paramref name="now"/>; returns the partitions dropped (or, embedded, rows deleted).</summary>
    Task<IReadOnlyList<string>> RunAsync(SignerDbContext db, DateTimeOffset now, DateTimeOffset cutoff, DateTimeOffset ahead, CancellationToken cancellationToken);
}

/// <summary>PostgreSQL: daily partitions created ahead, whole partitions past the cutoff dropped, one worker at a time.</summary>
public sealed class PartitionedResultRetention : IResultRetention
{
    private const long LockKey = 0x45_64_67_65_53_69_67_03;

    public async Task<IReadOnlyList<string>> RunAsync(SignerDbContext db, DateTimeOffset now, DateTimeOffset cutoff, DateTimeOffset ahead,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var run = await PartitionRetention.RunAsync(db.Database,
            new PartitionRetention.Plan(SignerDbContext.Schema, LockKey, now, ahead, new Dictionary<string, DateTimeOffset> { ["sign_results"] = cutoff }),
            cancellationToken);
        return run?.Dropped ?? []; // null: another worker runs it
    }
}

/// <summary>The embedded SQLite store: the rows past the cutoff deleted.</summary>
public sealed class EmbeddedResultRetention : IResultRetention
{
    public async Task<IReadOnlyList<string>> RunAsync(SignerDbContext db, DateTimeOffset now, DateTimeOffset cutoff, DateTimeOffset ahead,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var results = await db.Database.ExecuteSqlRawAsync("DELETE FROM sign_results WHERE created_at < {0}", [cutoff], cancellationToken);
        return [$"sign_results: {results} rows"];
    }
}
