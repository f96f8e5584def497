using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EdgeSigner.ServiceDefaults;

/// <summary>
/// Brings a database up to date before anything else of the host starts: PostgreSQL through the context's
/// migrations, one instance at a time, the embedded SQLite store by creating its schema from the same model.
/// </summary>
public sealed class DatabaseMigrator<TContext>(IServiceScopeFactory scopes) : IHostedLifecycleService
    where TContext : DbContext
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        if (db.Database.ProviderName?.Contains("Sqlite", StringComparison.Ordinal) == true)
        {
            await db.Database.EnsureCreatedAsync(cancellationToken);
        }
        else
        {
            // Instances of one service starting together migrate one after the other: a session advisory lock per
            // schema, on the connection the migrations then use (EF Core's own migration lock did not keep two
            // workers from inserting the same history row).
            var key = "edgesigner-migrations-" + (db.Model.GetDefaultSchema() ?? typeof(TContext).Name);
            await db.Database.OpenConnectionAsync(cancellationToken);
            try
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock(hashtextextended({key}, 0))", cancellationToken);
                await db.Database.MigrateAsync(cancellationToken);
            }
            finally
            {
                try
                {
                    await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock(hashtextextended({key}, 0))", CancellationToken.None);
                }
                catch (Exception ex) when (Outage.OfDatabase(ex))
                {
                    // The connection is gone, and the session's lock with it; the migration's own error is the one to see.
                }

                await db.Database.CloseConnectionAsync();
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
