using EdgeSigner.ServiceDefaults;
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
    : PeriodicJob(scopes, time, logger)
{
    protected override string What => "Result retention";
    protected override TimeSpan Interval => TimeSpan.FromMinutes(options.Value.RunIntervalMinutes);
    protected override bool RunsAtStart => true;

    protected override Task RunAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        RunOnceAsync(services.GetRequiredService<SignerDbContext>(), Time.GetUtcNow(), cancellationToken);

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
