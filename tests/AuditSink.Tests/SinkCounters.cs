using EdgeSigner.Testing;

namespace EdgeSigner.AuditSink.Tests;

/// <summary>The sink's own count of what it consumed (<c>edgesigner_audit_events_total</c>), from its <c>/metrics</c>.</summary>
public static class SinkCounters
{
    /// <summary>The events of <paramref name="type"/> by result (<c>written</c>, <c>duplicate</c>, <c>expired</c>).</summary>
    public static async Task<Dictionary<string, double>> ByResultAsync(string sinkUrl, string? type = null) =>
        (await PrometheusText.ScrapeAsync(sinkUrl))
            .Where(s => s.Name == "edgesigner_audit_events_total" && (type is null || s["type"] == type))
            .GroupBy(s => s["result"]!)
            .ToDictionary(g => g.Key, g => g.Sum(s => s.Value));
}
