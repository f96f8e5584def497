using System.Diagnostics;
using System.Diagnostics.Metrics;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Breakers;
using EdgeSigner.ServiceDefaults.Observability;
using EdgeSigner.Guardrails.RateLimiting;
using EdgeSigner.SignWorker.CircuitBreaking;
using EdgeSigner.SignWorker.Keys;
using Microsoft.Extensions.Options;

namespace EdgeSigner.SignWorker.Observability;

/// <summary>
/// The worker's meter (<c>EdgeSigner.SignWorker</c>), in Prometheus as: <c>edgesigner_sign_requests_total</c> (by
/// signing mode, region, tenant, outcome and error type), <c>edgesigner_sign_duration_seconds</c> (by signing mode,
/// region, outcome), <c>edgesigner_kms_requests_total</c> (by key, region, operation, outcome),
/// <c>edgesigner_kms_cost_usd_total</c> (by operation), <c>edgesigner_kms_budget_per_second</c> (by region),
/// <c>edgesigner_circuit_breaker_state</c> (by key and region: 0 closed, 1 half-open, 2 open) and
/// <c>edgesigner_outbox_republished_total</c>.
/// </summary>
public sealed class SignerMetrics
{
    /// <summary>Histogram buckets around the seed's 200 ms p95 threshold.</summary>
    private static readonly double[] LatencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10];

    private readonly Counter<long> _signRequests;
    private readonly Histogram<double> _signDuration;
    private readonly Counter<long> _kmsRequests;
    private readonly Counter<double> _kmsCost;
    private readonly Counter<long> _outboxRepublished;
    private readonly double _pricePerRequest;

    public SignerMetrics(IMeterFactory meters, KmsCircuitBreakers breakers, SigningKeyRegistry keys,
        IOptions<SigningOptions> signing, IOptions<KmsBudgetOptions> budget)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create($"{Telemetry.MeterPrefix}.SignWorker");
        _pricePerRequest = signing.Value.Kms.PricePer10kRequests / 10_000;
        _signRequests = meter.CreateCounter<long>("edgesigner.sign.requests", description: "Sign requests ended by a worker, by outcome.");
        _signDuration = meter.CreateHistogram("edgesigner.sign.duration", unit: "s",
            description: "From the ingress receiving a request to the worker's result.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _kmsRequests = meter.CreateCounter<long>("edgesigner.kms.requests",
            description: "Calls to the signer backends (AWS KMS; local key files in region local), by outcome.");
        _kmsCost = meter.CreateCounter<double>("edgesigner.kms.cost.usd", description: "KMS requests × the configured price, in US dollars.");
        _outboxRepublished = meter.CreateCounter<long>("edgesigner.outbox.republished",
            description: "Outcome events published from the outbox because the worker's own publish was not confirmed.");
        meter.CreateObservableGauge("edgesigner.kms.budget_per_second", () => keys.Keys
            .SelectMany(k => k.AllBackends).Select(b => b.Region).Distinct(StringComparer.Ordinal)
            .Select(region => new Measurement<double>(budget.Value.Enabled ? budget.Value.RateFor(region) : 0, new KeyValuePair<string, object?>("region", region))),
            description: "The global KMS budget per region, in requests per second (0: no budget).");
        meter.CreateObservableGauge("edgesigner.circuit_breaker.state", () => breakers.Snapshot()
            .Select(b => new Measurement<int>(StateValue(b.State),
                new KeyValuePair<string, object?>("key_id", b.KmsKeyId), new KeyValuePair<string, object?>("region", b.Region))),
            description: "KMS circuit breaker per key and region: 0 closed, 1 half-open, 2 open.");
    }

    public static int StateValue(string state) => state switch
    {
        BreakerStates.Open => 2,
        BreakerStates.HalfOpen => 1,
        _ => 0,
    };

    /// <summary>A request ended (signed or failed) on this worker.</summary>
    public void RecordOutcome(EdgeSignerLog log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var outcome = log.Success ? "success" : "failure";
        var tags = new TagList
        {
            { "signing_mode", log.SigningMode },
            { "region", log.Region },
            { "tenant", log.TenantId },
            { "outcome", outcome },
        };
        if (!log.Success)
        {
            tags.Add("error_type", log.ErrorType);
        }

        _signRequests.Add(1, tags);
        _signDuration.Record(log.TTotalMs / 1000.0,
            new KeyValuePair<string, object?>("signing_mode", log.SigningMode),
            new KeyValuePair<string, object?>("region", log.Region),
            new KeyValuePair<string, object?>("outcome", outcome));
    }

    /// <summary>
    /// One call to a signer backend: <paramref name="outcome"/> is success, throttled, error or timeout. Only KMS
    /// calls (<paramref name="billed"/>) add to the cost.
    /// </summary>
    public void RecordKmsCall(string keyId, string region, string operation, string outcome, bool billed)
    {
        _kmsRequests.Add(1,
            new KeyValuePair<string, object?>("key_id", keyId),
            new KeyValuePair<string, object?>("region", region),
            new KeyValuePair<string, object?>("operation", operation),
            new KeyValuePair<string, object?>("outcome", outcome));
        _kmsCost.Add(billed ? _pricePerRequest : 0, new KeyValuePair<string, object?>("operation", operation));
    }

    /// <summary>Outcome events the outbox published because the worker's own publish was not confirmed.</summary>
    public void RecordOutboxRepublished(int count) => _outboxRepublished.Add(count);
}
