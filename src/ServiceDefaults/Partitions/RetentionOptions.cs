using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeSigner.ServiceDefaults.Partitions;

/// <summary>
/// The seed's data retention, configurable, for every service's partitioned tables. Section <c>EdgeSigner:Retention</c>:
/// each service's retention job reads the periods of the tables it owns.
/// </summary>
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

    /// <summary>Signing results and their claims (<c>signer.sign_results</c>): what a retried request id replays.</summary>
    [Range(1, 3650)]
    public int ResultDays { get; set; } = 7;

    /// <summary>How often a retention job creates partitions ahead and drops expired ones.</summary>
    [Range(1, 10_080)]
    public int RunIntervalMinutes { get; set; } = 60;

    /// <summary>How many days of daily partitions exist ahead of today (monthly tables: the next month too).</summary>
    [Range(1, 90)]
    public int PartitionsAheadDays { get; set; } = 7;
}

public static class RetentionRegistration
{
    /// <summary>The retention settings, validated at start (once, whichever services the process hosts).</summary>
    public static IServiceCollection AddRetentionOptions(this IServiceCollection services)
    {
        if (services.All(d => d.ServiceType != typeof(IConfigureOptions<RetentionOptions>)))
        {
            services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        }

        return services;
    }
}
