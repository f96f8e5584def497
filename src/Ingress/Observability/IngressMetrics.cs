using System.Diagnostics.Metrics;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.ServiceDefaults.Observability;

namespace EdgeSigner.Ingress.Observability;

/// <summary>
/// The ingress's meter (<c>EdgeSigner.Ingress</c>): <c>edgesigner_ingress_rejections_total</c> by error type and
/// tenant, for requests refused before any worker saw them (authentication, guardrails, validation); the workers
/// count the rest. Also keeps the last minute of <c>/v1/sign</c> outcomes for the status page.
/// </summary>
public sealed class IngressMetrics
{
    private const int WindowSeconds = 60;

    private readonly Counter<long> _rejections;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Second[] _seconds = new Second[WindowSeconds];

    public IngressMetrics(IMeterFactory meters, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _time = time;
        _rejections = meters.Create($"{Telemetry.MeterPrefix}.Ingress")
            .CreateCounter<long>("edgesigner.ingress.rejections", description: "Requests the ingress refused before a worker saw them.");
        for (var i = 0; i < _seconds.Length; i++)
        {
            _seconds[i] = new Second();
        }
    }

    /// <summary>One <c>/v1/sign</c> request ended; <paramref name="fromWorker"/> when a worker produced the outcome.</summary>
    public void Record(EdgeSignerLog log, bool fromWorker)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (!log.Success && !fromWorker)
        {
            _rejections.Add(1, new KeyValuePair<string, object?>("error_type", log.ErrorType),
                new KeyValuePair<string, object?>("tenant", log.TenantId));
        }

        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        lock (_gate)
        {
            var second = _seconds[now % WindowSeconds];
            if (second.At != now)
            {
                second.Reset(now);
            }

            if (log.Success && log.SigningMode == SigningModes.Edge)
            {
                second.Edge++;
            }
            else if (log.Success)
            {
                second.Central++;
            }
            else
            {
                second.Errors[log.ErrorType ?? ErrorTypes.InternalError] = second.Errors.GetValueOrDefault(log.ErrorType ?? ErrorTypes.InternalError) + 1;
            }

            second.Latency[LatencyBucket.Of(log.TTotalMs)]++;
        }
    }

    /// <summary>The last minute, as rates per second and the latency percentiles.</summary>
    public TrafficSummary Summary()
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        long edge = 0, central = 0;
        var errors = new Dictionary<string, long>(StringComparer.Ordinal);
        var latencies = new long[LatencyBucket.Count];
        lock (_gate)
        {
            foreach (var second in _seconds.Where(s => now - s.At < WindowSeconds))
            {
                edge += second.Edge;
                central += second.Central;
                for (var i = 0; i < latencies.Length; i++)
                {
                    latencies[i] += second.Latency[i];
                }

                foreach (var (type, count) in second.Errors)
                {
                    errors[type] = errors.GetValueOrDefault(type) + count;
                }
            }
        }

        var total = edge + central + errors.Values.Sum();
        return new TrafficSummary(WindowSeconds, total / (double)WindowSeconds, edge / (double)WindowSeconds, central / (double)WindowSeconds,
            total == 0 ? 0 : errors.Values.Sum() / (double)total, errors, Percentile(latencies, 0.50), Percentile(latencies, 0.95), Percentile(latencies, 0.99));
    }

    /// <summary>The upper edge of the bucket that holds the <paramref name="q"/> quantile (within 5 % of it).</summary>
    private static double Percentile(long[] counts, double q)
    {
        var total = counts.Sum();
        if (total == 0)
        {
            return 0;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(q * total));
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                return LatencyBucket.UpperMs(i);
            }
        }

        return LatencyBucket.UpperMs(counts.Length - 1);
    }

    /// <summary>
    /// Latencies counted in buckets 5 % wide from 0.1 ms to about 2 minutes (the last takes anything longer): the
    /// window's memory is fixed, whatever the request rate.
    /// </summary>
    private static class LatencyBucket
    {
        private const double SmallestMs = 0.1;
        private const double Growth = 1.05;
        public const int Count = 290;

        public static int Of(double ms) =>
            ms <= SmallestMs ? 0 : Math.Min(Count - 1, (int)Math.Ceiling(Math.Log(ms / SmallestMs) / Math.Log(Growth)));

        public static double UpperMs(int bucket) => SmallestMs * Math.Pow(Growth, bucket);
    }

    private sealed class Second
    {
        public long At = -1;
        public long Edge;
        public long Central;
        public Dictionary<string, long> Errors { get; } = new(StringComparer.Ordinal);
        public long[] Latency { get; } = new long[LatencyBucket.Count];

        public void Reset(long at)
        {
            At = at;
            Edge = 0;
            Central = 0;
            Errors.Clear();
            Array.Clear(Latency);
        }
    }
}

/// <summary>The last <see cref="WindowSeconds"/> seconds of <c>/v1/sign</c> at this ingress.</summary>
public sealed record TrafficSummary(
    int WindowSeconds, double RequestsPerSecond, double EdgePerSecond, double CentralPerSecond, double ErrorRate,
    IReadOnlyDictionary<string, long> ErrorsByType, double P50Ms, double P95Ms, double P99Ms);
