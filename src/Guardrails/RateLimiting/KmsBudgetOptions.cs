using System.ComponentModel.DataAnnotations;

namespace EdgeSigner.Guardrails.RateLimiting;

/// <summary>
/// The global KMS request budget per region, shared by every worker (AWS's ECC signing quota is per account and
/// region: 300 to 1,000 requests per second). Section <c>EdgeSigner:KmsBudget</c>; the quota monitor reads it too.
/// </summary>
public sealed class KmsBudgetOptions
{
    public const string SectionName = "EdgeSigner:KmsBudget";

    public bool Enabled { get; set; } = true;

    /// <summary>Requests per second for a region not listed in <see cref="Regions"/>: AWS's lowest ECC signing quota.</summary>
    [Range(1, 100_000)]
    public double DefaultRatePerSecond { get; set; } = 300;

    /// <summary>Requests per second by KMS region, e.g. <c>EdgeSigner__KmsBudget__Regions__eu-west-1=500</c>.</summary>
    public Dictionary<string, double> Regions { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How much budget a worker takes at a time, in milliseconds of the rate (50 ms at 500/s is 25 calls).</summary>
    [Range(5, 1000)]
    public int LeaseMs { get; set; } = 50;

    public double RateFor(string region) => Regions.TryGetValue(region, out var rate) && rate > 0 ? rate : DefaultRatePerSecond;

    /// <summary>Tokens per lease.</summary>
    public int LeaseSizeFor(string region) => Math.Max(1, (int)Math.Floor(RateFor(region) * LeaseMs / 1000.0));

    /// <summary>The shared bucket's capacity: two leases or a tenth of a second of the rate, whichever is larger.</summary>
    public double BurstFor(string region) => Math.Max(2 * LeaseSizeFor(region), RateFor(region) / 10);
}
