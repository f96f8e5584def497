namespace EdgeSigner.Ingress.Signing;

/// <summary>
/// A public key the workers announced (<c>ingress.published_keys</c>; the ingress is its only writer). Kept after
/// no worker announces it any more: a key that signed must stay verifiable, and an ingress that starts while every
/// worker is down still knows the kid to build requests for, so they can wait in the queue.
/// </summary>
public sealed class PublishedKeyRow
{
    public string Kid { get; set; } = string.Empty;

    /// <summary>DER SubjectPublicKeyInfo. Never changed once stored: a kid names exactly one public key.</summary>
    public byte[] PublicKey { get; set; } = [];

    public string Fingerprint { get; set; } = string.Empty;
    public DateTimeOffset FirstAnnouncedAt { get; set; }

    /// <summary>When a worker last announced this key as the one it signs new requests with.</summary>
    public DateTimeOffset? LastActiveAt { get; set; }
}
