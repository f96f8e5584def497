namespace EdgeSigner.AuditSink.Auditing;

/// <summary>
/// The earliest event time written since the last roll-up, so a late batch (after an outage) has its minutes
/// rolled up again rather than only the last few.
/// </summary>
public sealed class RollupWatermark
{
    private long _earliestTicks = long.MaxValue;

    public void Touch(DateTimeOffset eventTime)
    {
        var ticks = eventTime.UtcTicks;
        long current;
        while (ticks < (current = Interlocked.Read(ref _earliestTicks)) &&
               Interlocked.CompareExchange(ref _earliestTicks, ticks, current) != current)
        {
        }
    }

    /// <summary>The earliest time touched since the last call (null when nothing was), and starts over.</summary>
    public DateTimeOffset? TakeEarliest()
    {
        var ticks = Interlocked.Exchange(ref _earliestTicks, long.MaxValue);
        return ticks == long.MaxValue ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
    }
}
