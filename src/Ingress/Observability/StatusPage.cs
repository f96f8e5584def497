using System.Globalization;
using System.Text;
using EdgeSigner.Contracts.Audit;
using EdgeSigner.Contracts.Breakers;
using EdgeSigner.Contracts.Flags;
using EdgeSigner.Ingress.Admin;
using EdgeSigner.Guardrails.Flags;
using MassTransit;
using static System.Net.WebUtility;

namespace EdgeSigner.Ingress.Observability;

/// <summary>
/// <c>GET /admin/status</c>: one HTML page with the essentials of the seed's dashboard for an operator without
/// Grafana: the break-glass flags, the last minute of traffic at this ingress (edge and central rates, error rate
/// by type, latency percentiles), every worker's circuit breakers, and the KMS quota utilisation per region.
/// It refreshes itself every 5 seconds; no script, no external resource.
/// </summary>
public static class StatusPage
{
    public static RouteGroupBuilder MapStatusPage(this RouteGroupBuilder admin)
    {
        admin.MapGet("/status", async (IngressMetrics metrics, CircuitBreakerView breakers, FlagsState flags, IRequestClient<GetKmsQuota> quota,
            TimeProvider time, CancellationToken ct) =>
        {
            IReadOnlyList<KmsQuotaReport>? regions = null;
            string? quotaError = null;
            try
            {
                regions = (await quota.GetResponse<KmsQuotaReported>(GetKmsQuota.Now, ct, RequestTimeout.After(s: 3))).Message.Regions;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                quotaError = "The audit sink did not answer: quota figures are unavailable.";
            }

            var html = Render(metrics.Summary(), CircuitBreakerView.Aggregate(breakers.Workers()), breakers.Workers().Count, flags.Current,
                regions, quotaError, time.GetUtcNow());
            return TypedResults.Content(html, "text/html; charset=utf-8");
        });
        return admin;
    }

    public static string Render(TrafficSummary traffic, IReadOnlyList<BreakerStatus> breakers, int workers, FlagsSnapshot flags,
        IReadOnlyList<KmsQuotaReport>? regions, string? quotaError, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(traffic);
        ArgumentNullException.ThrowIfNull(breakers);
        ArgumentNullException.ThrowIfNull(flags);
        var c = CultureInfo.InvariantCulture;
        var html = new StringBuilder();
        html.Append(c, $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
            <title>EdgeSigner status</title>
            <style>
              body { font: 14px system-ui, sans-serif; margin: 1.5rem; color: #222; }
              table { border-collapse: collapse; margin-bottom: 1.5rem; }
              th, td { border: 1px solid #ccc; padding: .3rem .7rem; text-align: left; }
              .OPEN, .alert { background: #fdd; } .HALF_OPEN { background: #ffd; } .CLOSED, .ok { background: #dfd; }
            </style></head><body>
            <h1>EdgeSigner status</h1>
            <p>As of {{now:yyyy-MM-dd HH:mm:ss}} UTC. Flags version {{flags.Version}}.</p>
            <h2>Break-glass flags</h2>
            <table id="flags">
            <tr><th>edge_signer_enabled</th><td class="{{(flags.Global.EdgeSignerEnabled ? "ok" : "alert")}}">{{flags.Global.EdgeSignerEnabled}}</td></tr>
            <tr><th>emergency_shutdown</th><td class="{{(flags.EmergencyShutdown ? "alert" : "ok")}}">{{flags.EmergencyShutdown}}</td></tr>
            <tr><th>route_removed</th><td class="{{(flags.RouteRemoved ? "alert" : "ok")}}">{{flags.RouteRemoved}}</td></tr>
            </table>
            <h2>Traffic at this ingress (last {{traffic.WindowSeconds}} s)</h2>
            <table id="traffic">
            <tr><th>request rate</th><td id="request-rate">{{traffic.RequestsPerSecond:F2}} req/s</td></tr>
            <tr><th>edge (edge-tbs+remote-es256)</th><td id="edge-rate">{{traffic.EdgePerSecond:F2}} req/s</td></tr>
            <tr><th>central (central-fallback)</th><td id="central-rate">{{traffic.CentralPerSecond:F2}} req/s</td></tr>
            <tr><th>error rate</th><td id="error-rate" class="{{(traffic.ErrorRate > 0.01 ? "alert" : "ok")}}">{{traffic.ErrorRate:P2}}</td></tr>
            <tr><th>latency p50 / p95 / p99</th><td id="latency">{{traffic.P50Ms:F1}} / {{traffic.P95Ms:F1}} / {{traffic.P99Ms:F1}} ms</td></tr>
            </table>
            """);
        if (traffic.ErrorsByType.Count > 0)
        {
            html.Append("<h3>Errors by type</h3><table id=\"errors\"><tr><th>error_type</th><th>count</th></tr>");
            foreach (var (type, count) in traffic.ErrorsByType.OrderByDescending(e => e.Value))
            {
                html.Append(c, $"<tr><td>{HtmlEncode(type)}</td><td>{count}</td></tr>");
            }

            html.Append("</table>");
        }

        html.Append(c, $"<h2>Circuit breakers ({workers} worker(s) reporting)</h2>");
        html.Append("<table id=\"breakers\"><tr><th>KMS key</th><th>region</th><th>state</th><th>failures in window</th><th>last transition</th></tr>");
        if (breakers.Count == 0)
        {
            html.Append("<tr><td colspan=\"5\">No breaker reported yet (no worker has called KMS).</td></tr>");
        }

        foreach (var b in breakers)
        {
            html.Append(c, $"<tr class=\"{HtmlEncode(b.State)}\"><td>{HtmlEncode(b.KmsKeyId)}</td><td>{HtmlEncode(b.Region)}</td><td>{HtmlEncode(b.State)}</td>");
            html.Append(c, $"<td>{b.FailuresInWindow}</td><td>{b.LastTransitionAt:yyyy-MM-dd HH:mm:ss} {HtmlEncode(b.LastTransitionReason ?? string.Empty)}</td></tr>");
        }

        html.Append("</table><h2>KMS quota</h2>");
        if (quotaError is not null)
        {
            html.Append(c, $"<p class=\"alert\">{HtmlEncode(quotaError)}</p>");
        }
        else
        {
            html.Append("<table id=\"quota\"><tr><th>region</th><th>quota</th><th>current</th><th>utilisation</th><th>requests today</th><th>error rate</th></tr>");
            foreach (var r in regions ?? [])
            {
                var utilisation = r.QuotaPerSecond > 0 ? r.CurrentUsage.RequestsPerSecond / r.QuotaPerSecond : 0;
                html.Append(c, $"<tr class=\"{(r.Alerts.UsageAlert ? "alert" : "ok")}\"><td>{HtmlEncode(r.Region)}</td><td>{r.QuotaPerSecond:F0}/s</td>");
                html.Append(c, $"<td>{r.CurrentUsage.RequestsPerSecond:F2}/s</td><td>{utilisation:P1}</td><td>{r.CurrentUsage.DailyRequests}</td><td>{r.CurrentUsage.ErrorRate:P2}</td></tr>");
            }

            html.Append("</table>");
        }

        html.Append("<p>Full dashboards: Grafana (docker compose, port 3000); raw series: <code>/metrics</code>.</p></body></html>");
        return html.ToString();
    }
}
