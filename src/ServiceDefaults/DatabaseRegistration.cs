using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeSigner.ServiceDefaults;

public static class DatabaseRegistration
{
    /// <summary>Applies <typeparamref name="TContext"/>'s schema at start and adds its database to <c>/readyz</c>.</summary>
    public static IServiceCollection AddDatabaseLifecycle<TContext>(this IServiceCollection services) where TContext : DbContext
    {
        services.AddHostedService<DatabaseMigrator<TContext>>();
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck<TContext>>(typeof(TContext).Name, tags: [ServiceDefaultsExtensions.ReadyTag]);
        return services;
    }
}
