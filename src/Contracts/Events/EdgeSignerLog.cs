namespace EdgeSigner.Contracts.Events;

/// <summary>
/// The seed's <c>EdgeSignerLog</c>: the fields every sign attempt, success and failure carries, on the bus, in the
/// log line and in the audit row. <c>t_wasm_ms</c> is the time the ingress took to build the TBS. Extended with
/// the fields of the seed's <c>AnalyticsEvent</c> (signing mode, payload size) and the request's identity.
/// </summary>
public sealed record EdgeSignerLog
{
    public required Guid RequestId { get; init; }
    public required string TenantId { get; init; }
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>The region the request was served for (the caller's region when known, else the signing region).</summary>
    public required string Region { get; init; }

    public double TWasmMs { get; init; }
    public double TKmsMs { get; init; }
    public double TTotalMs { get; init; }
    public double CpuMsUsed { get; init; }
    public double MemoryMbUsed { get; init; }

    public required string TbsHash { get; init; }
    public required string KmsKeyId { get; init; }
    public required string KmsRegion { get; init; }

    public bool Success { get; init; }
    public string? ErrorType { get; init; }
    public string? ErrorMessage { get; init; }
    public int RetryCount { get; init; }
    public bool FallbackTriggered { get; init; }

    public required string SigningMode { get; init; }
    public required string Kid { get; init; }
    public required string Format { get; init; }
    public int PayloadSize { get; init; }
    public Guid? BatchId { get; init; }
    public string? ItemId { get; init; }

    /// <summary>A request's log before anything is known but who asked and when: every other text field empty.</summary>
    public static EdgeSignerLog Begin(Guid requestId, string tenantId, DateTimeOffset timestamp) => new()
    {
        RequestId = requestId,
        TenantId = tenantId,
        Timestamp = timestamp,
        Region = string.Empty,
        TbsHash = string.Empty,
        KmsKeyId = string.Empty,
        KmsRegion = string.Empty,
        SigningMode = string.Empty,
        Kid = string.Empty,
        Format = string.Empty,
    };
}
