using System.ComponentModel.DataAnnotations;

namespace EdgeSigner.Guardrails.Flags;

/// <summary>Section <c>EdgeSigner:FlagsSync</c>.</summary>
public sealed class FlagsSyncOptions
{
    public const string SectionName = "EdgeSigner:FlagsSync";

    /// <summary>How often an instance reloads the flags in case it missed a change event.</summary>
    [Range(200, 600_000)]
    public int ReloadIntervalMs { get; set; } = 5000;
}
