using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.AuditSink.Data;
using EdgeSigner.Contracts.Audit;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.AuditSink.Reporting;

/// <summary>
/// Computes the compliance report. The rule (also in <c>audit.compliance_report</c>, which gives the same figures in
/// SQL): COMPLIANT when the month's audit trail verifies, every attempt older than five minutes has an outcome, and failed requests are at
/// most 1 % of requests (the seed's <c>error_rate_percent</c> alert threshold).
/// </summary>
public sealed class ComplianceReporter(AuditDbContext db, AuditTrailVerifier verifier, TimeProvider time)
{
    public const double MaxErrorRatePercent = 1.0;

    public async Task<ComplianceReport> ReportAsync(string period, CancellationToken cancellationToken)
    {
        if (!GetComplianceReport.TryParsePeriod(period, out var from, out var to))
        {
            throw new ArgumentException("period must be YYYY-MM", nameof(period));
        }

        var (events, trail) = (db.Table("sign_events"), db.Table("audit_trail"));
        // Table names are constants; the period is passed as parameters. (Column aliases are snake_case: the
        // naming convention maps them to Counts.)
        var sql = $$"""
            SELECT count(DISTINCT request_id) AS total,
                   coalesce(sum(CASE WHEN event_type = 'edge_sign_success' THEN 1 ELSE 0 END), 0) AS succeeded,
                   coalesce(sum(CASE WHEN event_type = 'edge_sign_failure' THEN 1 ELSE 0 END), 0) AS failed,
                   coalesce(sum(CASE WHEN event_type = 'edge_sign_success' AND fallback_triggered THEN 1 ELSE 0 END), 0) AS fallbacks,
                   (SELECT count(*) FROM {{trail}} t WHERE t.occurred_at >= {0} AND t.occurred_at < {1}
                      AND (t.category = 'security_event' OR t.outcome = 'denied')) AS incidents,
                   (SELECT count(*) FROM {{events}} a WHERE a.event_type = 'edge_sign_attempt' AND a."timestamp" >= {0} AND a."timestamp" < {1}
                      AND a."timestamp" < {2}
                      AND NOT EXISTS (SELECT 1 FROM {{events}} o WHERE o.request_id = a.request_id
                                      AND o.event_type IN ('edge_sign_success', 'edge_sign_failure'))) AS open
            FROM {{events}} WHERE "timestamp" >= {0} AND "timestamp" < {1}
            """;
        var settled = time.GetUtcNow().AddMinutes(-5); // attempts younger than this may still be in flight
        var counts = await db.Database.SqlQueryRaw<Counts>(sql, from, to, settled).SingleAsync(cancellationToken);
        var verified = (await verifier.VerifyAsync(from, to, cancellationToken)).Verified;
        var errorRate = counts.Total == 0 ? 0 : 100.0 * counts.Failed / counts.Total;
        var compliant = verified && counts.Open == 0 && errorRate <= MaxErrorRatePercent;
        return new ComplianceReport
        {
            Period = period,
            TotalRequests = counts.Total,
            SuccessfulSigns = counts.Succeeded,
            FailedSigns = counts.Failed,
            FallbackRate = counts.Succeeded == 0 ? 0 : (double)counts.Fallbacks / counts.Succeeded,
            SecurityIncidents = counts.Incidents,
            ErrorRatePercent = errorRate,
            AttemptsWithoutOutcome = counts.Open,
            TrailVerified = verified,
            ComplianceStatus = compliant ? "COMPLIANT" : "NON_COMPLIANT",
        };
    }

    private sealed record Counts(long Total, long Succeeded, long Failed, long Fallbacks, long Incidents, long Open);
}
