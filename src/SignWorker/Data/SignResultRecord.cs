namespace EdgeSigner.SignWorker.Data;

/// <summary>
/// The one result of one request (<c>signer.sign_results</c>), keyed by its request id: claimed by the worker that
/// signs it, completed before the message is acknowledged, replayed to every redelivery. Batch items are found by
/// batch id and item index.
/// </summary>
public sealed class SignResultRecord
{
    public Guid RequestId { get; set; }
    public string TenantId { get; set; } = string.Empty;
    public string Kid { get; set; } = string.Empty;
    public string Format { get; set; } = string.Empty;
    public string? SigningMode { get; set; }
    public string? Region { get; set; }
    public string TbsHash { get; set; } = string.Empty;
    public byte[]? Signature { get; set; }
    public string? ErrorType { get; set; }
    public string? ErrorMessage { get; set; }
    public Guid? BatchId { get; set; }
    public string? ItemId { get; set; }
    public int? ItemIndex { get; set; }
    public string ClaimedBy { get; set; } = string.Empty;
    public DateTimeOffset ClaimedUntil { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
}
