using EdgeSigner.Contracts.Flags;

namespace EdgeSigner.SignWorker.Routing;

public enum SigningPath
{
    Edge,
    Central,
}

/// <summary>Decides, per request, whether the edge backend signs or the central one. A pure function.</summary>
public static class SigningPathPolicy
{
    /// <summary>
    /// The edge path only when the master switch is on, the tenant is allowlisted, the tenant's own override is not
    /// off, no emergency shutdown is active and the edge backend is usable; otherwise central-fallback.
    /// </summary>
    public static SigningPath Choose(
        EdgeSignerFlags flags, string tenantId, bool? tenantEdgeOverride, bool emergencyShutdown, bool edgeUsable)
    {
        ArgumentNullException.ThrowIfNull(flags);
        var edge = flags.EdgeSignerEnabled
            && flags.TenantAllowlist.Contains(tenantId, StringComparer.Ordinal)
            && tenantEdgeOverride != false
            && !emergencyShutdown
            && edgeUsable;
        return edge ? SigningPath.Edge : SigningPath.Central;
    }
}
