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

            second.LatenciesMs.Add(log.TTotalMs);
        }
    }

    /// <summary>The last minute, as rates per second and the latency percentiles.</summary>
    public TrafficSummary Summary()
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        long edge = 0, central = 0;
        var errors = new Dictionary<string, long>(StringComparer.Ordinal);
        var latencies = new List<double>();
        lock (_gate)
        {
            foreach (var second in _seconds.Where(s => now - s.At < WindowSeconds))
            {
                edge += second.Edge;
                central += second.Central;
                latencies.AddRange(second.LatenciesMs);
                foreach (var (type, count) in second.Errors)
                {
                    errors[type] = errors.GetValueOrDefault(type) + count;
                }
            }
        }

        latencies.Sort();
        var total = edge + central + errors.Values.Sum();
        return new TrafficSummary(WindowSeconds, total / (double)WindowSeconds, edge / (double)WindowSeconds, central / (double)WindowSeconds,
            total == 0 ? 0 : errors.Values.Sum() / (double)total, errors, Percentile(latencies, 0.50), Percentile(latencies, 0.95), Percentile(latencies, 0.99));
    }

    private static double Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    private sealed class Second
    {
        public long At = -1;
        public long Edge;
        public long Central;
        public Dictionary<string, long> Errors { get; } = new(StringComparer.Ordinal);
        public List<double> LatenciesMs { get; } = [];

        public void Reset(long at)
        {
            At = at;
            Edge = 0;
            Central = 0;
            Errors.Clear();
            LatenciesMs.Clear();
        }
    }
}

/// <summary>The last <see cref="WindowSeconds"/> seconds of <c>/v1/sign</c> at this ingress.</summary>
public sealed record TrafficSummary(
    int WindowSeconds, double RequestsPerSecond, double EdgePerSecond, double CentralPerSecond, double ErrorRate,
    IReadOnlyDictionary<string, long> ErrorsByType, double P50Ms, double P95Ms, double P99Ms);
