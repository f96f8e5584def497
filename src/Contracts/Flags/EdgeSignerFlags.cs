namespace EdgeSigner.Contracts.Flags;

/// <summary>The seed's <c>EdgeSignerFlags</c>, with the seed's defaults.</summary>
public sealed record EdgeSignerFlags
{
    /// <summary>Global master switch of the edge path.</summary>
    public bool EdgeSignerEnabled { get; init; }

    /// <summary>Tenants approved for the edge path.</summary>
    public IReadOnlyList<string> TenantAllowlist { get; init; } = [];

    /// <summary>Largest decoded payload accepted, in bytes (32 KiB).</summary>
    public int MaxPayloadSize { get; init; } = 32768;

    /// <summary>Longest a KMS call may take before the request falls back.</summary>
    public int KmsTimeoutMs { get; init; } = 30000;

    public bool CircuitBreakerEnabled { get; init; } = true;

    public bool SmartPlacementEnabled { get; init; }

    public static EdgeSignerFlags Defaults { get; } = new();
}
