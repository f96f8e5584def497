using System.Text.Json;
using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.AuditSink.Data;
using EdgeSigner.ServiceDefaults;
using EdgeSigner.ServiceDefaults.Partitions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EdgeSigner.AuditSink.Retention;

/// <summary>
/// Keeps the audit store within its retention periods, on its schedule, through the store's own
/// <see cref="IAuditRetention"/> (partitions in PostgreSQL, rows in the embedded store). Every run is itself
/// recorded in the audit trail.
/// </summary>
public sealed class RetentionJob(
    IServiceScopeFactory scopes, IAuditRetention retention, IOptions<RetentionOptions> options, TimeProvider time, ILogger<RetentionJob> logger)
    : PeriodicJob(scopes, time, logger)
{
    public const long RetentionLockKey = 0x45_64_67_65_53_69_67_02;

    public sealed record RunResult(IReadOnlyList<string> Created, IReadOnlyList<string> Dropped, bool Ran);

    protected override string What => "Retention";
    protected override TimeSpan Interval => TimeSpan.FromMinutes(options.Value.RunIntervalMinutes);

    /// <summary>The first run happens before the sink consumes anything, so partitions exist ahead from the start.</summary>
    protected override bool RunsAtStart => true;

    protected override Task RunAsync(IServiceProvider services, CancellationToken cancellationToken) =>
        RunOnceAsync(services, Time.GetUtcNow(), cancellationToken);

    /// <summary>One run as of <paramref name="now"/>: the job calls it on its schedule, tests with a chosen clock.</summary>
    public async Task<RunResult> RunOnceAsync(IServiceProvider services, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        var db = services.GetRequiredService<AuditDbContext>();
        var o = options.Value;
        var cutoffs = new Dictionary<string, DateTimeOffset>
        {
            ["sign_events"] = now.AddDays(-o.RequestLogDays),
            ["error_details"] = now.AddDays(-o.ErrorDetailDays),
            ["metrics_minute"] = now.AddDays(-o.MetricsDays),
            ["audit_trail"] = now.AddDays(-o.AuditTrailDays),
        };
        var result = await retention.RunAsync(db, now, now.AddDays(o.PartitionsAheadDays), cutoffs, cancellationToken);
        if (!result.Ran)
        {
            return result;
        }

        await services.GetRequiredService<AuditTrailWriter>().AppendAsync(
        [
            new TrailEntry(Guid.NewGuid(), now, TrailEntry.Retention, "audit-sink", "local", "retention.run", null, "allowed", 0, null,
                JsonSerializer.Serialize(new
                {
                    created = result.Created,
                    dropped = result.Dropped,
                    cutoffs = cutoffs.ToDictionary(c => c.Key, c => c.Value.ToString("O")),
                })),
        ], cancellationToken, recordedAt: retention.TrailTime(now));
        if (result.Dropped.Count > 0)
        {
            logger.LogInformation("Retention dropped {Dropped}", string.Join(", ", result.Dropped));
        }

        return result;
    }
}
