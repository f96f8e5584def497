namespace EdgeSigner.Contracts.Signing;

/// <summary>Published once, when the last item of a batch has ended (signed or failed).</summary>
public sealed record BatchCompleted
{
    public required Guid BatchId { get; init; }
    public required string TenantId { get; init; }
    public required int ItemCount { get; init; }
    public required int Succeeded { get; init; }
    public required int Failed { get; init; }
    public required DateTimeOffset CompletedAt { get; init; }
}
