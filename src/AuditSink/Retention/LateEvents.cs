using EdgeSigner.ServiceDefaults.Partitions;
using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.Contracts.Events;
using Microsoft.Extensions.Options;

namespace EdgeSigner.AuditSink.Retention;

/// <summary>
/// Sign events that reach the sink after their retention has passed (a backlog drained after a long outage): they
/// are not written, since retention would drop them at its next run, but counted
/// (<c>edgesigner_audit_events_total{result="expired"}</c>) and logged, at most once every ten minutes, so a
/// backlog of them neither crash-loops the consumer nor floods the log. An event is expired for a table when the
/// whole day that holds it ended before the table's cutoff: exactly the rows a retention run would drop.
/// </summary>
public sealed class LateEvents(IOptions<RetentionOptions> options, AuditMetrics metrics, TimeProvider time, ILogger<LateEvents> logger)
{
    private static readonly TimeSpan LogEvery = TimeSpan.FromMinutes(10);
    private readonly Lock _gate = new();
    private DateTimeOffset _lastLogged = DateTimeOffset.MinValue;
    private long _sinceLastLog;

    /// <summary>The instant before which an event's day is past <c>sign_events</c>' retention.</summary>
    public DateTimeOffset SignEventsCutoff(DateTimeOffset now) => now.AddDays(-options.Value.RequestLogDays);

    /// <summary>The same for <c>error_details</c>, which is kept for less time.</summary>
    public DateTimeOffset ErrorDetailsCutoff(DateTimeOffset now) => now.AddDays(-options.Value.ErrorDetailDays);

    public static bool IsExpired(DateTimeOffset eventTime, DateTimeOffset cutoff) =>
        new DateTimeOffset(eventTime.UtcDateTime.Date.AddDays(1), TimeSpan.Zero) <= cutoff;

    /// <summary>The events still inside <c>sign_events</c>' retention at <paramref name="now"/>; the rest are counted and logged.</summary>
    public IReadOnlyList<(Guid EventId, string EventType, EdgeSignerLog Log)> Keep(
        IReadOnlyList<(Guid EventId, string EventType, EdgeSignerLog Log)> events, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(events);
        var cutoff = SignEventsCutoff(now);
        if (!events.Any(e => IsExpired(e.Log.Timestamp, cutoff)))
        {
            return events;
        }

        var expired = events.Where(e => IsExpired(e.Log.Timestamp, cutoff)).ToList();
        foreach (var type in expired.GroupBy(e => e.EventType))
        {
            metrics.RecordExpired(type.Key, type.Count());
        }

        Report(expired.Count, expired.Min(e => e.Log.Timestamp), cutoff);
        return events.Where(e => !IsExpired(e.Log.Timestamp, cutoff)).ToList();
    }

    private void Report(int count, DateTimeOffset oldest, DateTimeOffset cutoff)
    {
        long total;
        lock (_gate)
        {
            _sinceLastLog += count;
            var now = time.GetUtcNow();
            if (now - _lastLogged < LogEvery)
            {
                return;
            }

            _lastLogged = now;
            total = _sinceLastLog;
            _sinceLastLog = 0;
        }

        logger.LogWarning(
            "{Count} sign events arrived after their retention ({Days} days; the oldest from {Oldest:O}, cutoff {Cutoff:O}) and were not " +
            "written; counted in edgesigner_audit_events_total{{result=\"expired\"}}. Logged at most every {Minutes} minutes.",
            total, options.Value.RequestLogDays, oldest, cutoff, LogEvery.TotalMinutes);
    }
}
