namespace EdgeSigner.Contracts.Flags;

/// <summary>
/// The whole flag state at one version: the global <see cref="EdgeSignerFlags"/>, the per-tenant overrides and the
/// break-glass switches. Every service holds the newest snapshot it has seen; versions only go up.
/// </summary>
public sealed record FlagsSnapshot
{
    public long Version { get; init; }
    public DateTimeOffset ChangedAt { get; init; }
    public EdgeSignerFlags Global { get; init; } = EdgeSignerFlags.Defaults;
    public IReadOnlyDictionary<string, TenantFlagOverrides> Tenants { get; init; } = new Dictionary<string, TenantFlagOverrides>();

    /// <summary>Break-glass level 2: every tenant to central-fallback.</summary>
    public bool EmergencyShutdown { get; init; }

    /// <summary>Break-glass level 3: signing calls answer 503 and readiness fails.</summary>
    public bool RouteRemoved { get; init; }

    public static FlagsSnapshot Initial(EdgeSignerFlags global) => new() { Global = global };

    public TenantFlagOverrides? OverridesFor(string tenantId) => Tenants.GetValueOrDefault(tenantId);

    /// <summary>The flags as they apply to one tenant: the global values with the tenant's overrides on top.</summary>
    public EdgeSignerFlags EffectiveFor(string tenantId)
    {
        var o = OverridesFor(tenantId);
        return o is null ? Global : Global with
        {
            MaxPayloadSize = o.MaxPayloadSize ?? Global.MaxPayloadSize,
            KmsTimeoutMs = o.KmsTimeoutMs ?? Global.KmsTimeoutMs,
            CircuitBreakerEnabled = o.CircuitBreakerEnabled ?? Global.CircuitBreakerEnabled,
            SmartPlacementEnabled = o.SmartPlacementEnabled ?? Global.SmartPlacementEnabled,
        };
    }
}
