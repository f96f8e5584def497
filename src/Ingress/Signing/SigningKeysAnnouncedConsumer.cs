using System.Data.Common;
using EdgeSigner.Contracts.Keys;
using EdgeSigner.Ingress.Data;
using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.Ingress.Signing;

/// <summary>
/// Takes every worker's announcement into this ingress's <see cref="PublishedKeys"/>, and stores what is new. A
/// failed write (the database away) is logged and tried again at the next announcement: it never faults the message.
/// </summary>
public sealed class SigningKeysAnnouncedConsumer(PublishedKeys keys, IngressDbContext db, ILogger<SigningKeysAnnouncedConsumer> logger)
    : IConsumer<SigningKeysAnnounced>
{
    public async Task Consume(ConsumeContext<SigningKeysAnnounced> context)
    {
        var writes = keys.Apply(context.Message);
        if (writes.Count == 0)
        {
            return;
        }

        try
        {
            foreach (var row in writes)
            {
                var stored = await db.PublishedKeys.FindAsync([row.Kid], context.CancellationToken);
                if (stored is null)
                {
                    db.PublishedKeys.Add(row);
                }
                else if (stored.PublicKey.AsSpan().SequenceEqual(row.PublicKey))
                {
                    stored.LastActiveAt = row.LastActiveAt;
                }
            }

            await db.SaveChangesAsync(context.CancellationToken);
            keys.Stored(await db.PublishedKeys.AsNoTracking().ToListAsync(context.CancellationToken));
        }
        catch (Exception ex) when (ex is DbUpdateException or DbException or TimeoutException or InvalidOperationException)
        {
            logger.LogWarning("Announced keys not stored ({Reason}); the next announcement tries again", ex.GetType().Name);
        }
    }
}

/// <summary>A temporary queue per ingress instance, so each one hears every worker.</summary>
public sealed class SigningKeysAnnouncedConsumerDefinition : ConsumerDefinition<SigningKeysAnnouncedConsumer>
{
    public SigningKeysAnnouncedConsumerDefinition() => Endpoint(endpoint =>
    {
        endpoint.Name = "edge-signer-signing-keys";
        endpoint.InstanceId = Guid.NewGuid().ToString("N")[..12];
        endpoint.Temporary = true;
    });
}
