using System.Text.RegularExpressions;

namespace EdgeSigner.Ingress.Tenants;

public static partial class TenantIds
{
    public static bool IsValid(string? tenantId) => tenantId is not null && Pattern().IsMatch(tenantId);

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
