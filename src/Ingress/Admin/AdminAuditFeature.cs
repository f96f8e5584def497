namespace EdgeSigner.Ingress.Admin;

/// <summary>What an admin handler did, for the audit record <see cref="AdminAuditMiddleware"/> writes.</summary>
public sealed class AdminAuditFeature
{
    public string? Action { get; set; }
    public string? Target { get; set; }
    public string? Before { get; set; }
    public string? After { get; set; }

    public static AdminAuditFeature For(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var feature = context.Features.Get<AdminAuditFeature>();
        if (feature is null)
        {
            feature = new AdminAuditFeature();
            context.Features.Set(feature);
        }

        return feature;
    }
}
