namespace EdgeSigner.Contracts.Admin;

/// <summary>
/// Published by the ingress that changed what a tenant's API keys may do (a key revoked, the tenant disabled or
/// enabled): every ingress instance drops what it has cached of that tenant's keys, so the change holds everywhere
/// within moments instead of when the cache would have expired.
/// </summary>
public sealed record TenantAccessChanged
{
    public required string TenantId { get; init; }
    public required DateTimeOffset ChangedAt { get; init; }
}
