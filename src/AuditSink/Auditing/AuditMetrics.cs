using System.Diagnostics.Metrics;
using EdgeSigner.ServiceDefaults.Observability;

namespace EdgeSigner.AuditSink.Auditing;

/// <summary>
/// The sink's meter (<c>EdgeSigner.AuditSink</c>): <c>edgesigner_audit_events_total</c> by event type and result
/// (<c>written</c>; <c>duplicate</c> for a redelivery the store already held; <c>expired</c> for an event that arrived
/// after its retention and was not written).
/// </summary>
public sealed class AuditMetrics
{
    private readonly Counter<long> _events;

    public AuditMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _events = meters.Create($"{Telemetry.MeterPrefix}.AuditSink")
            .CreateCounter<long>("edgesigner.audit.events", description: "Sign events received by the audit sink, by type and result.");
    }

    public void RecordWritten(string type, int written, int duplicates)
    {
        _events.Add(written, new KeyValuePair<string, object?>("type", type), new KeyValuePair<string, object?>("result", "written"));
        if (duplicates > 0)
        {
            _events.Add(duplicates, new KeyValuePair<string, object?>("type", type), new KeyValuePair<string, object?>("result", "duplicate"));
        }
    }

    public void RecordExpired(string type, int expired) =>
        _events.Add(expired, new KeyValuePair<string, object?>("type", type), new KeyValuePair<string, object?>("result", "expired"));
}
