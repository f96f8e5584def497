namespace EdgeSigner.Ingress.RateLimiting;

/// <summary>A tenant's shared token bucket (<c>ingress.rate_buckets</c>); changed only by <c>ingress.take_tokens</c>.</summary>
public sealed class RateBucketRow
{
    public string TenantId { get; set; } = string.Empty;
    public double Tokens { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
