using EdgeSigner.Testing;

namespace EdgeSigner.AuditSink.Tests;

/// <summary>
/// The sink's own count of what it consumed (<c>edgesigner_audit_events_total</c>), from its <c>/metrics</c>. Every
/// sink host in this test process is seen by every host's OpenTelemetry listener (it subscribes by meter name), so
/// the test classes that read these counters, or make a sink count events, are one collection and never run at once.
/// </summary>
public static class SinkCounters
{
    public const string Collection = "sink counters";

    /// <summary>The events of <paramref name="type"/> by result (<c>written</c>, <c>duplicate</c>, <c>expired</c>).</summary>
    public static async Task<Dictionary<string, double>> ByResultAsync(string sinkUrl, string? type = null) =>
        (await PrometheusText.ScrapeAsync(sinkUrl))
            .Where(s => s.Name == "edgesigner_audit_events_total" && (type is null || s["type"] == type))
            .GroupBy(s => s["result"]!)
            .ToDictionary(g => g.Key, g => g.Sum(s => s.Value));
}
