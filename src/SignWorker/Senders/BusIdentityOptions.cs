using System.ComponentModel.DataAnnotations;

namespace EdgeSigner.SignWorker.Senders;

/// <summary>
/// Who may send sign requests on the bus without being a tenant. Section <c>EdgeSigner:BusIdentity</c>
/// (docs/bus-clients.md).
/// </summary>
public sealed class BusIdentityOptions
{
    public const string SectionName = "EdgeSigner:BusIdentity";

    /// <summary>
    /// The RabbitMQ users of EdgeSigner's own services (the ingress's user, at least): their requests were
    /// authenticated and limited by the ingress. The worker's own user is always one of them.
    /// </summary>
    public List<string> ServiceUsers { get; set; } = [];

    /// <summary>How long a worker waits, at most, for the ingress to admit a tenant's bus request.</summary>
    [Range(100, 60_000)]
    public int AdmissionTimeoutMs { get; set; } = 5_000;
}
