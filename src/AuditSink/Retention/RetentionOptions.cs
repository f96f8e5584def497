using System.ComponentModel.DataAnnotations;

namespace EdgeSigner.AuditSink.Retention;

/// <summary>The seed's data retention, configurable. Section <c>EdgeSigner:Retention</c>.</summary>
public sealed class RetentionOptions
{
    public const string SectionName = "EdgeSigner:Retention";

    /// <summary>Request logs (<c>audit.sign_events</c>).</summary>
    [Range(1, 36_500)]
    public int RequestLogDays { get; set; } = 90;

    /// <summary>Metrics (<c>audit.metrics_minute</c>): one year.</summary>
    [Range(1, 36_500)]
    public int MetricsDays { get; set; } = 365;

    /// <summary>The audit trail (<c>audit.audit_trail</c>): seven years.</summary>
    [Range(1, 36_500)]
    public int AuditTrailDays { get; set; } = 2557;

    /// <summary>Error details (<c>audit.error_details</c>).</summary>
    [Range(1, 36_500)]
    public int ErrorDetailDays { get; set; } = 30;

    /// <summary>How often the job creates partitions ahead and drops expired ones.</summary>
    [Range(1, 10_080)]
    public int RunIntervalMinutes { get; set; } = 60;

    /// <summary>How many days of daily partitions exist ahead of today (monthly tables: the next month too).</summary>
    [Range(1, 90)]
    public int PartitionsAheadDays { get; set; } = 7;
}
