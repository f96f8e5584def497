using EdgeSigner.ServiceDefaults;
using EdgeSigner.SignWorker.Data;
using EdgeSigner.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeSigner.SignWorker.Tests;

/// <summary>Workers that start together on a new database migrate it once, one after the other, and all start.</summary>
public sealed class ConcurrentMigrationTests
{
    [Fact]
    public async Task Four_workers_migrating_a_new_database_at_once_all_succeed_and_apply_each_migration_once()
    {
        var connectionString = await TestServers.CreatePostgresDatabaseAsync();
        try
        {
            var providers = Enumerable.Range(0, 4).Select(_ => new ServiceCollection()
                .AddDbContext<SignerDbContext>(o => SignerDbContext.Configure(o, connectionString, "."))
                .BuildServiceProvider()).ToList();

            await Task.WhenAll(providers.Select(p => new DatabaseMigrator<SignerDbContext>(p.GetRequiredService<IServiceScopeFactory>())
                .StartingAsync(CancellationToken.None)));

            await using var scope = providers[0].CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<SignerDbContext>();
            var applied = (await db.Database.GetAppliedMigrationsAsync()).ToList();
            Assert.Equal(db.Database.GetMigrations().ToList(), applied);
            Assert.Equal(applied.Count, applied.Distinct(StringComparer.Ordinal).Count());
            foreach (var provider in providers)
            {
                await provider.DisposeAsync();
            }
        }
        finally
        {
            await TestServers.DropPostgresDatabaseAsync(connectionString);
        }
    }
}
