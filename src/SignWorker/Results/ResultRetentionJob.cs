using EdgeSigner.SignWorker.Data;
using EdgeSigner.ServiceDefaults.Partitions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EdgeSigner.SignWorker.Results;

/// <summary>
/// Keeps results for <see cref="RetentionOptions.ResultDays"/>: in PostgreSQL it creates the daily
/// partitions ahead and drops whole partitions past the period (one worker at a time, by advisory lock), as the audit
/// store does; the embedded SQLite store deletes past the same cutoff.
/// </summary>
public sealed class ResultRetentionJob(IServiceScopeFactory scopes, IOptions<RetentionOptions> options, TimeProvider time, ILogger<ResultRetentionJob> logger)
    : BackgroundService
{
    private const long LockKey = 0x45_64_67_65_53_69_67_03;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await RunScheduledAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(options.Value.RunIntervalMinutes), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await RunScheduledAsync(stoppingToken);
        }
    }

    private async Task RunScheduledAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await RunOnceAsync(scope.ServiceProvider.GetRequiredService<SignerDbContext>(), time.GetUtcNow(), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError("Result retention failed ({Reason}); it runs again in {Minutes} min", ex.GetType().Name, options.Value.RunIntervalMinutes);
        }
    }

    /// <summary>One run as of <paramref name="now"/>; returns the partitions dropped (or, embedded, rows deleted).</summary>
    public async Task<IReadOnlyList<string>> RunOnceAsync(SignerDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var cutoff = now.AddDays(-options.Value.ResultDays);
        IReadOnlyList<string> dropped;
        if (db.IsPostgres)
        {
            var run = await PartitionRetention.RunAsync(db.Database, SignerDbContext.Schema, LockKey, now, now.AddDays(options.Value.PartitionsAheadDays),
                new Dictionary<string, DateTimeOffset> { ["sign_results"] = cutoff }, beforeDrop: null, cancellationToken);
            dropped = run?.Dropped ?? []; // null: another worker runs it
        }
        else
        {
            var results = await db.Database.ExecuteSqlRawAsync("DELETE FROM sign_results WHERE created_at < {0}", [cutoff], cancellationToken);
            dropped = [$"sign_results: {results} rows"];
        }

        if (dropped.Count > 0)
        {
            logger.LogInformation("Result retention removed {Dropped}", string.Join(", ", dropped));
        }

        return dropped;
    }
}
