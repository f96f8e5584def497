using EdgeSigner.Ingress.Data;
using EdgeSigner.Ingress.Signing;
using EdgeSigner.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EdgeSigner.Ingress.Tests;

/// <summary>Idempotency-Keys past their 24 hours are pruned, in the embedded store and in PostgreSQL; younger ones stay.</summary>
public sealed class IdempotencyKeyPruningTests(EmbeddedIngressFixture embedded) : IClassFixture<EmbeddedIngressFixture>
{
    private static readonly DateTimeOffset Then = new(2027, 2, 28, 23, 30, 0, TimeSpan.Zero);

    [Fact]
    public Task Keys_past_their_lifetime_go_and_younger_ones_stay_in_the_embedded_store() => PruneAsync(embedded.Host);

    [Fact]
    public async Task Keys_past_their_lifetime_go_and_younger_ones_stay_in_postgresql()
    {
        await using var pipeline = await Pipeline.CreateAsync();
        await PruneAsync(await pipeline.StartIngressAsync());
    }

    private static async Task PruneAsync(ServiceHost ingress)
    {
        var clock = new FakeTimeProvider(Then);
        await using var scope = ingress.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
        var keys = new IdempotencyKeys(db, clock);
        var tenant = "prune-" + Guid.NewGuid().ToString("N")[..8];
        await keys.ResolveAsync(tenant, "old", [1], Guid.NewGuid(), CancellationToken.None);
        clock.Advance(TimeSpan.FromHours(2));
        await keys.ResolveAsync(tenant, "young", [2], Guid.NewGuid(), CancellationToken.None);

        clock.Advance(IdempotencyKeys.Lifetime - TimeSpan.FromHours(1)); // the first is 25 h old, the second 23 h
        var pruned = await keys.PruneAsync(clock.GetUtcNow(), CancellationToken.None);

        Assert.Equal(1, pruned);
        Assert.Equal(["young"], await db.IdempotencyKeys.AsNoTracking().Where(k => k.TenantId == tenant).Select(k => k.Key).ToListAsync());
    }
}
