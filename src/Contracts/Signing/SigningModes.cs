namespace EdgeSigner.Contracts.Signing;

/// <summary>The signing modes recorded on every result, log line and audit row.</summary>
public static class SigningModes
{
    /// <summary>The ingress built the TBS and the edge KMS backend signed its digest.</summary>
    public const string Edge = "edge-tbs+remote-es256";

    /// <summary>The central backend signed (flags, or the edge path was unusable).</summary>
    public const string CentralFallback = "central-fallback";
}
