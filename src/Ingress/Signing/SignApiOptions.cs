using System.ComponentModel.DataAnnotations;

namespace EdgeSigner.Ingress.Signing;

/// <summary>Section <c>EdgeSigner:Api</c>.</summary>
public sealed class SignApiOptions
{
    public const string SectionName = "EdgeSigner:Api";

    /// <summary>How long a synchronous <c>/v1/sign</c> waits for its signature before answering 504.</summary>
    [Range(100, 120_000)]
    public int SyncTimeoutMs { get; set; } = 10_000;
}
