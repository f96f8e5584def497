namespace EdgeSigner.Contracts.Admin;

/// <summary>
/// One call to the admin API, allowed or denied: who, when, from where, what, and the value before and after.
/// Written to the audit trail (<c>audit.audit_trail</c>).
/// </summary>
public sealed record AdminActionRecorded
{
    public required Guid EventId { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary><c>admin</c> for a caller holding the admin token, <c>anonymous</c> otherwise.</summary>
    public required string Actor { get; init; }

    public required string SourceAddress { get; init; }

    /// <summary>What was asked, e.g. <c>flags.emergency_shutdown</c>, <c>tenants.disable</c>, <c>POST /admin/flags</c>.</summary>
    public required string Action { get; init; }

    /// <summary>What it was about: a tenant id, a flag name, or empty.</summary>
    public string? Target { get; init; }

    /// <summary><c>allowed</c> (done), <c>denied</c> (no valid admin token) or <c>rejected</c> (invalid request).</summary>
    public required string Outcome { get; init; }

    public required int StatusCode { get; init; }

    /// <summary>The state before and after, as JSON; null when nothing changed.</summary>
    public string? Before { get; init; }

    public string? After { get; init; }
}
