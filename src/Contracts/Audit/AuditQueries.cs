using System.Globalization;

namespace EdgeSigner.Contracts.Audit;

/// <summary>
/// Questions only the audit sink can answer, because it owns the audit tables: the ingress's admin API sends them
/// (request/response on <see cref="Address"/>) instead of reading the sink's tables itself.
/// </summary>
public static class AuditQueries
{
    public const string Queue = "audit-queries";

    public static Uri Address { get; } = new($"queue:{Queue}");
}

/// <summary>Walk the audit trail's hash chain for the rows recorded in [<see cref="From"/>, <see cref="To"/>).</summary>
public sealed record VerifyAuditTrail
{
    public required DateTimeOffset From { get; init; }
    public required DateTimeOffset To { get; init; }
}

/// <summary>What a walk of the chain found: the first row that does not match, if any.</summary>
public sealed record TrailVerification
{
    public required bool Verified { get; init; }
    public required long RowsChecked { get; init; }
    public long? FirstBadSeq { get; init; }
    public Guid? FirstBadEventId { get; init; }
    public string? Problem { get; init; }
}

/// <summary>The compliance report of one month, <c>YYYY-MM</c>.</summary>
public sealed record GetComplianceReport
{
    public required string Period { get; init; }

    /// <summary>The month a period names, as [from, to); false unless it is <c>YYYY-MM</c>.</summary>
    public static bool TryParsePeriod(string? period, out DateTimeOffset from, out DateTimeOffset to)
    {
        from = to = default;
        if (period is null || !DateTime.TryParseExact(period, "yyyy-MM", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var month))
        {
            return false;
        }

        from = new DateTimeOffset(month, TimeSpan.Zero);
        to = from.AddMonths(1);
        return true;
    }
}

/// <summary>The seed's <c>ComplianceReport</c> for a month, with the figures its status rests on.</summary>
public sealed record ComplianceReport
{
    public required string Period { get; init; }
    public required long TotalRequests { get; init; }
    public required long SuccessfulSigns { get; init; }
    public required long FailedSigns { get; init; }
    public required double FallbackRate { get; init; }
    public required long SecurityIncidents { get; init; }
    public required double ErrorRatePercent { get; init; }
    public required long AttemptsWithoutOutcome { get; init; }
    public required bool TrailVerified { get; init; }
    public required string ComplianceStatus { get; init; }
}

/// <summary>Every KMS region's usage and projection, from the outcome events recorded.</summary>
public sealed record GetKmsQuota
{
    public static GetKmsQuota Now { get; } = new();
}

public sealed record KmsQuotaReported
{
    public required IReadOnlyList<KmsQuotaReport> Regions { get; init; }
}

/// <summary>The seed's <c>KMSQuotaMonitor</c> for one KMS region.</summary>
public sealed record KmsQuotaReport(string Region, double QuotaPerSecond, QuotaUsage CurrentUsage, QuotaProjection ProjectedUsage, QuotaAlerts Alerts);

public sealed record QuotaUsage(double RequestsPerSecond, long DailyRequests, double ErrorRate);

public sealed record QuotaProjection(double HourlyPeak, double DailyTotal, DateTimeOffset? QuotaExhaustionTime);

/// <summary>The seed's alert thresholds: usage over 80 %, errors over 5 %, and exhaustion within the hour.</summary>
public sealed record QuotaAlerts(double UsageThreshold, double ErrorThreshold, bool UsageAlert, bool ErrorAlert, bool QuotaExhaustion);
