namespace EdgeSigner.Contracts.Signing;

/// <summary>
/// A request to sign the SHA-256 digest of a to-be-signed byte string. Sent to the <c>sign-requested</c> queue,
/// either through MassTransit's request client (the answer is <see cref="SignCompleted"/> or <see cref="SignRejected"/>)
/// or fire-and-forget (the outcome is published as events). The payload itself never travels on the bus.
/// </summary>
public sealed record SignRequested
{
    public required Guid RequestId { get; init; }
    public required string TenantId { get; init; }
    public required string Kid { get; init; }

    /// <summary><c>raw</c>, <c>jws</c> or <c>cose</c> (see <see cref="Tbs.SignatureFormats"/>).</summary>
    public required string Format { get; init; }

    /// <summary>SHA-256 of the to-be-signed bytes: exactly 32 bytes.</summary>
    public required byte[] TbsDigest { get; init; }

    public required int PayloadSize { get; init; }

    /// <summary>The caller's region (from <c>X-Client-Region</c>), used by smart placement; null when unknown.</summary>
    public string? Region { get; init; }

    /// <summary>After this instant nobody waits for the answer: the worker must not start signing.</summary>
    public required DateTimeOffset Deadline { get; init; }

    public string? IdempotencyKey { get; init; }
    public Guid? BatchId { get; init; }
    public string? ItemId { get; init; }

    /// <summary>The item's position in its batch (0-based), the order results are listed in.</summary>
    public int? ItemIndex { get; init; }

    /// <summary>When the ingress accepted the request; the start of <c>t_total_ms</c>.</summary>
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>Time the ingress spent building the TBS (the seed's <c>t_wasm_ms</c>).</summary>
    public double TbsBuildMs { get; init; }
}
