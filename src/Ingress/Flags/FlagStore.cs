using System.Text.Json;
using EdgeSigner.Contracts.Flags;
using EdgeSigner.Ingress.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace EdgeSigner.Ingress.Flags;

/// <summary>Reads and changes the durable flag state (PostgreSQL, or the embedded SQLite store).</summary>
public sealed class FlagStore(IngressDbContext db, IOptions<EdgeSignerFlags> initialFlags, TimeProvider time)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>The stored snapshot; before the first change, the configured (by default the seed's) flags at version 0.</summary>
    public async Task<FlagsSnapshot> LoadAsync(CancellationToken cancellationToken)
    {
        var row = await db.FlagState.AsNoTracking().FirstOrDefaultAsync(r => r.Id == FlagStateRow.SingletonId, cancellationToken);
        return row is null ? FlagsSnapshot.Initial(initialFlags.Value) : Deserialize(row);
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the newest stored snapshot and stores the result under the next
    /// version, retrying when another instance changed the state in between.
    /// </summary>
    public async Task<(FlagsSnapshot Before, FlagsSnapshot After)> ChangeAsync(
        Func<FlagsSnapshot, FlagsSnapshot> change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            var row = await db.FlagState.FirstOrDefaultAsync(r => r.Id == FlagStateRow.SingletonId, cancellationToken);
            var before = row is null ? FlagsSnapshot.Initial(initialFlags.Value) : Deserialize(row);
            var now = time.GetUtcNow();
            var after = change(before) with { Version = before.Version + 1, ChangedAt = now };
            if (row is null)
            {
                db.FlagState.Add(new FlagStateRow { Version = after.Version, Document = Serialize(after), UpdatedAt = now });
            }
            else
            {
                row.Version = after.Version;
                row.Document = Serialize(after);
                row.UpdatedAt = now;
            }

            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return (before, after);
            }
            catch (DbUpdateException) when (attempt < 10)
            {
                // Another instance stored a change first (version check or the first insert): start again from it.
            }
        }
    }

    public static string Serialize(FlagsSnapshot snapshot) => JsonSerializer.Serialize(snapshot, Json);

    private static FlagsSnapshot Deserialize(FlagStateRow row) =>
        (JsonSerializer.Deserialize<FlagsSnapshot>(row.Document, Json) ?? FlagsSnapshot.Initial(EdgeSignerFlags.Defaults)) with { Version = row.Version };
}
