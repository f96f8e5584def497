namespace EdgeSigner.Ingress.Flags;

/// <summary>
/// The flag state as one versioned JSON document (a single row): a change is a compare-and-swap on
/// <see cref="Version"/>, so concurrent admin calls on several instances never lose one another's change.
/// </summary>
public sealed class FlagStateRow
{
    public const int SingletonId = 1;

    public int Id { get; set; } = SingletonId;
    public long Version { get; set; }
    public string Document { get; set; } = "{}";
    public DateTimeOffset UpdatedAt { get; set; }
}
