using System.Globalization;
using EdgeSigner.Contracts.Audit;
using EdgeSigner.Ingress.Hosting;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EdgeSigner.Ingress.Admin;

/// <summary>
/// The auditors' endpoints: the hash-chain check, the monthly compliance report and the KMS quota view. The audit sink
/// owns the audit tables and answers them over the bus (<see cref="AuditQueries"/>); a sink that does not answer in
/// time is a 503.
/// </summary>
public static class AuditEndpoints
{
    /// <summary>A month's report reads a month of events: it may take a while on a large store.</summary>
    public static readonly RequestTimeout ReportTimeout = RequestTimeout.After(s: 60);

    public static RouteGroupBuilder MapAuditAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/audit/verify", Verify);
        admin.MapGet("/reports/compliance", Compliance);
        admin.MapGet("/quota", async (IRequestClient<GetKmsQuota> quota, CancellationToken ct) =>
            TypedResults.Ok(new { regions = (await quota.GetResponse<KmsQuotaReported>(GetKmsQuota.Now, ct)).Message.Regions }));
        return admin;
    }

    /// <summary><c>GET /admin/audit/verify?from=2026-11-01&amp;to=2026-12-01</c>: walks the chain of the rows recorded in [from, to).</summary>
    public static async Task<Results<Ok<TrailVerification>, ProblemHttpResult>> Verify(
        string? from, string? to, IRequestClient<VerifyAuditTrail> sink, TimeProvider time, CancellationToken ct)
    {
        if (!TryParse(from, DateTimeOffset.MinValue, out var start) || !TryParse(to, time.GetUtcNow().AddDays(1), out var end) || end <= start)
        {
            return Problems.InvalidRequest("from and to must be ISO 8601 dates or times, from before to.");
        }

        var answer = await sink.GetResponse<TrailVerification>(new VerifyAuditTrail { From = start, To = end }, ct, ReportTimeout);
        return TypedResults.Ok(answer.Message);
    }

    /// <summary><c>GET /admin/reports/compliance?period=2026-11</c>: the seed's ComplianceReport.</summary>
    public static async Task<Results<Ok<ComplianceReport>, ProblemHttpResult>> Compliance(
        string? period, IRequestClient<GetComplianceReport> sink, CancellationToken ct)
    {
        if (!GetComplianceReport.TryParsePeriod(period, out _, out _))
        {
            return Problems.InvalidRequest("period must be YYYY-MM.");
        }

        var answer = await sink.GetResponse<ComplianceReport>(new GetComplianceReport { Period = period! }, ct, ReportTimeout);
        return TypedResults.Ok(answer.Message);
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
