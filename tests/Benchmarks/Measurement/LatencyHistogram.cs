using HdrHistogram;

namespace EdgeSigner.Benchmarks.Measurement;

/// <summary>
/// Latencies in an HdrHistogram (microsecond resolution, 3 significant digits, up to 5 minutes), thread-safe to
/// record into, mergeable across workers and runs.
/// </summary>
public sealed class LatencyHistogram
{
    private const long MaxMicroseconds = 5L * 60 * 1_000_000;
    private readonly LongHistogram _histogram = new(MaxMicroseconds, 3);
    private readonly Lock _gate = new();

    public long Count
    {
        get
        {
            lock (_gate)
            {
                return _histogram.TotalCount;
            }
        }
    }

    public void Record(TimeSpan latency)
    {
        var micros = Math.Clamp((long)latency.TotalMicroseconds, 1, MaxMicroseconds);
        lock (_gate)
        {
            _histogram.RecordValue(micros);
        }
    }

    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        lock (other._gate)
        {
            lock (_gate)
            {
                _histogram.Add(other._histogram);
            }
        }
    }

    /// <summary>The latency at <paramref name="percentile"/> (0 to 100), in milliseconds; 0 when empty.</summary>
    public double PercentileMs(double percentile)
    {
        lock (_gate)
        {
            return _histogram.TotalCount == 0 ? 0 : _histogram.GetValueAtPercentile(percentile) / 1000.0;
        }
    }
}
