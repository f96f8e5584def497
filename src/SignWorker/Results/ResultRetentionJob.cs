using EdgeSigner.SignWorker.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EdgeSigner.SignWorker.Results;

/// <summary>Section <c>EdgeSigner:Retention</c> (the part the workers keep).</summary>
public sealed class ResultRetentionOptions
{
    public const string SectionName = "EdgeSigner:Retention";

    /// <summary>How long results are kept (7 days).</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 3650)]
    public int ResultDays { get; set; } = 7;

    [System.ComponentModel.DataAnnotations.Range(1, 90)]
    public int PartitionsAheadDays { get; set; } = 7;
}

/// <summary>
/// Keeps results for <see cref="ResultRetentionOptions.ResultDays"/>: in PostgreSQL it creates the daily
/// partitions ahead and drops whole partitions past the period (one worker at a time, by advisory lock), as the audit
/// store does; the embedded SQLite store deletes past the same cutoff.
/// </summary>
public sealed class ResultRetentionJob(IServiceScopeFactory scopes, IOptions<ResultRetentionOptions> options, TimeProvider time, ILogger<ResultRetentionJob> logger)
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
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), time);
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
            logger.LogError("Result retention failed ({Reason}); it runs again within the hour", ex.GetType().Name);
        }
    }

    /// <summary>One run as of <paramref name="now"/>; returns the partitions dropped (or, embedded, rows deleted).</summary>
    public async Task<IReadOnlyList<string>> RunOnceAsync(SignerDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var cutoff = now.AddDays(-options.Value.ResultDays);
        var dropped = new List<string>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!db.IsPostgres)
        {
            var results = await db.Database.ExecuteSqlRawAsync("DELETE FROM sign_results WHERE created_at < {0}", [cutoff], cancellationToken);
            dropped.Add($"sign_results: {results} rows");
        }
        else if (await db.Database.SqlQuery<bool>($"SELECT pg_try_advisory_xact_lock({LockKey}) AS \"Value\"").SingleAsync(cancellationToken))
        {
            for (var day = 0; day <= options.Value.PartitionsAheadDays; day++)
            {
                var at = now.AddDays(day);
                await db.Database.ExecuteSqlAsync($"SELECT signer.ensure_partition('sign_results', {at})", cancellationToken);
            }

            var expired = await db.Database.SqlQuery<string>(
                $"SELECT partition_name AS \"Value\" FROM signer.partitions('sign_results') WHERE range_end <= {cutoff}").ToListAsync(cancellationToken);
            foreach (var partition in expired)
            {
                // Partition names come from the catalog (signer.partitions), never from input.
                var drop = "DROP TABLE signer.\"" + partition.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
                await db.Database.ExecuteSqlRawAsync(drop, cancellationToken);
                dropped.Add(partition);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        if (dropped.Count > 0)
        {
            logger.LogInformation("Result retention removed {Dropped}", string.Join(", ", dropped));
        }

        return dropped;
    }
}
