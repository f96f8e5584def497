namespace EdgeSigner.Ingress.Admin;

/// <summary>Section <c>EdgeSigner:Admin</c>.</summary>
public sealed class AdminOptions
{
    public const string SectionName = "EdgeSigner:Admin";

    /// <summary>
    /// The admin bearer token. Embedded mode generates one at start when unset; distributed mode refuses every
    /// admin call when unset, and says so at start.
    /// </summary>
    [System.ComponentModel.DataAnnotations.StringLength(4096, MinimumLength = 16)]
    public string? Token { get; set; }
}
