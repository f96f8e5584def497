using System.ComponentModel.DataAnnotations;

namespace EdgeSigner.Ingress.RateLimiting;

/// <summary>Per-tenant limits for tenants that have none of their own. Section <c>EdgeSigner:RateLimits</c>.</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "EdgeSigner:RateLimits";

    [Range(0.01, 1_000_000)]
    public double DefaultRatePerSecond { get; set; } = 50;

    [Range(1, 10_000_000)]
    public int DefaultBurst { get; set; } = 100;
}
