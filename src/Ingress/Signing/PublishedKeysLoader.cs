using EdgeSigner.Ingress.Data;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.Ingress.Signing;

/// <summary>Loads the stored keys before the bus starts, so an ingress that starts while the workers are down still signs.</summary>
public sealed class PublishedKeysLoader(IServiceScopeFactory scopes, PublishedKeys keys) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
        keys.Stored(await db.PublishedKeys.AsNoTracking().ToListAsync(cancellationToken));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
