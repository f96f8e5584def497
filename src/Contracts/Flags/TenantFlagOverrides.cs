namespace EdgeSigner.Contracts.Flags;

/// <summary>A tenant's own values for flags that may differ per tenant; null means "as the global flag says".</summary>
public sealed record TenantFlagOverrides
{
    /// <summary>False takes the tenant off the edge path (break-glass level 1) whatever the global flags say.</summary>
    public bool? EdgeSignerEnabled { get; init; }

    public int? MaxPayloadSize { get; init; }
    public int? KmsTimeoutMs { get; init; }
    public bool? CircuitBreakerEnabled { get; init; }
    public bool? SmartPlacementEnabled { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsEmpty => this == new TenantFlagOverrides();
}
