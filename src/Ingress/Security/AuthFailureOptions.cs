using System.ComponentModel.DataAnnotations;

namespace EdgeSigner.Ingress.Security;

/// <summary>
/// How many failed authentications one client address may make before it is slowed down. Section
/// <c>EdgeSigner:AuthFailures</c>. A token bucket per address: each 401 takes a token; with none left, every call from
/// that address is answered 429 <c>authentication_throttled</c> (with Retry-After) until one refills.
/// </summary>
public sealed class AuthFailureOptions
{
    public const string SectionName = "EdgeSigner:AuthFailures";

    /// <summary>Failures allowed in a row.</summary>
    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 10;

    /// <summary>Failures allowed per minute once the burst is spent.</summary>
    [Range(1, 1_000_000)]
    public int PerMinute { get; set; } = 10;
}
