using System.Globalization;
using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.AuditSink.Reporting;
using EdgeSigner.Ingress.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EdgeSigner.Ingress.Admin;

/// <summary>The auditors' endpoints: the hash-chain check and the monthly compliance report.</summary>
public static class AuditEndpoints
{
    public static RouteGroupBuilder MapAuditAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/audit/verify", Verify);
        admin.MapGet("/reports/compliance", Compliance);
        admin.MapGet("/quota", async (QuotaMonitor monitor, CancellationToken ct) => TypedResults.Ok(new { regions = await monitor.ReportAsync(ct) }));
        return admin;
    }

    /// <summary><c>GET /admin/audit/verify?from=2026-11-01&amp;to=2026-12-01</c>: walks the chain of the rows recorded in [from, to).</summary>
    public static async Task<Results<Ok<TrailVerification>, ProblemHttpResult>> Verify(
        string? from, string? to, AuditTrailVerifier verifier, TimeProvider time, CancellationToken ct)
    {
        if (!TryParse(from, DateTimeOffset.MinValue, out var start) || !TryParse(to, time.GetUtcNow().AddDays(1), out var end) || end <= start)
        {
            return Problems.InvalidRequest("from and to must be ISO 8601 dates or times, from before to.");
        }

        return TypedResults.Ok(await verifier.VerifyAsync(start, end, ct));
    }

    /// <summary><c>GET /admin/reports/compliance?period=2026-11</c>: the seed's ComplianceReport.</summary>
    public static async Task<Results<Ok<ComplianceReport>, ProblemHttpResult>> Compliance(
        string? period, ComplianceReporter reporter, CancellationToken ct)
    {
        if (!ComplianceReporter.TryParsePeriod(period, out _, out _))
        {
            return Problems.InvalidRequest("period must be YYYY-MM.");
        }

        return TypedResults.Ok(await reporter.ReportAsync(period!, ct));
    }

    private static bool TryParse(string? value, DateTimeOffset fallback, out DateTimeOffset result)
    {
        if (string.IsNullOrEmpty(value))
        {
            result = fallback;
            return true;
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out result);
    }
}
