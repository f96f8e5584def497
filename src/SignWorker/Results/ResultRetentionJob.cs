using EdgeSigner.SignWorker.Data;
using EdgeSigner.ServiceDefaults.Partitions;
using Microsoft.Extensions.Options;

namespace EdgeSigner.SignWorker.Results;

/// <summary>
/// Keeps results for <see cref="RetentionOptions.ResultDays"/>, on its schedule, through the store's own
/// <see cref="IResultRetention"/> (partitions in PostgreSQL, as the audit store does; rows in the embedded store).
/// </summary>
public sealed class ResultRetentionJob(
    IServiceScopeFactory scopes, IResultRetention retention, IOptions<RetentionOptions> options, TimeProvider time, ILogger<ResultRetentionJob> logger)
    : BackgroundService
{
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
        var dropped = await retention.RunAsync(db, now, cutoff, now.AddDays(options.Value.PartitionsAheadDays), cancellationToken);
        if (dropped.Count > 0)
        {
            logger.LogInformation("Result retention removed {Dropped}", string.Join(", ", dropped));
        }

        return dropped;
    }
}
