using EdgeSigner.Ingress.Data;
using Microsoft.EntityFrameworkCore;

namespace EdgeSigner.Ingress.Tenants;

/// <summary>
/// Embedded mode: makes sure the <c>dev</c> tenant exists and that this run's dev API key is its only valid key,
/// then prints the generated secrets once (to the console, not to the log pipeline).
/// </summary>
public sealed class DevTenantSeeder(IServiceScopeFactory scopes, DevCredentials credentials, TimeProvider time) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
        var now = time.GetUtcNow();
        var tenant = await db.Tenants.Include(t => t.ApiKeys).FirstOrDefaultAsync(t => t.TenantId == DevCredentials.TenantId, cancellationToken);
        if (tenant is null)
        {
            tenant = new Tenant { TenantId = DevCredentials.TenantId, CreatedAt = now };
            db.Tenants.Add(tenant);
        }

        var hash = ApiKeys.Hash(credentials.ApiKey);
        foreach (var key in tenant.ApiKeys.Where(k => k.RevokedAt is null && !k.KeyHash.AsSpan().SequenceEqual(hash)))
        {
            key.RevokedAt = now;
        }

        var current = tenant.ApiKeys.FirstOrDefault(k => k.KeyHash.AsSpan().SequenceEqual(hash));
        if (current is null)
        {
            tenant.ApiKeys.Add(new TenantApiKey { KeyId = ApiKeys.NewKeyId(), TenantId = tenant.TenantId, KeyHash = hash, CreatedAt = now });
        }
        else
        {
            current.RevokedAt = null;
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        Console.WriteLine();
        Console.WriteLine("EdgeSigner is running in embedded mode (in-memory bus, local keys, SQLite audit store).");
        Console.WriteLine($"  dev tenant API key: {(credentials.ApiKeyGenerated ? credentials.ApiKey : "from " + DevCredentials.ApiKeySetting)}");
        Console.WriteLine($"  admin token:        {(credentials.AdminTokenGenerated ? credentials.AdminToken : "from " + DevCredentials.AdminTokenSetting)}");
        if (credentials.ApiKeyGenerated || credentials.AdminTokenGenerated)
        {
            Console.WriteLine("  These were generated for this run; set EdgeSigner__Dev__ApiKey and EdgeSigner__Admin__Token to keep them.");
        }

        Console.WriteLine();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
