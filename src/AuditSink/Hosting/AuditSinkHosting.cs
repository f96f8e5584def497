using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.AuditSink.Data;
using EdgeSigner.ServiceDefaults;
using MassTransit;

namespace EdgeSigner.AuditSink.Hosting;

public static class AuditSinkHosting
{
    /// <summary>The standalone sink process: RabbitMQ, PostgreSQL, the audit consumers, a management port.</summary>
    public static WebApplicationBuilder AddAuditSink(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!DeploymentMode.IsDistributed(builder.Configuration) || DeploymentMode.PostgresConnectionString(builder.Configuration) is null)
        {
            throw new InvalidOperationException(
                "ConnectionStrings:RabbitMq and ConnectionStrings:Audit must both be set: the sink runs on its own only in " +
                "distributed mode; in embedded mode 'dotnet run --project src/Ingress' hosts it.");
        }

        builder.AddServiceDefaults();
        builder.Services.AddAuditSinkServices(builder.Configuration, builder.Environment.ContentRootPath);
        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            bus.AddAuditSinkConsumers();
            bus.UsingEdgeSignerTransport(builder.Configuration);
        });
        return builder;
    }

    /// <summary>The audit store (PostgreSQL, or SQLite in embedded mode), migrated at start, and the writer.</summary>
    public static IServiceCollection AddAuditSinkServices(this IServiceCollection services, IConfiguration configuration, string contentRoot)
    {
        services.AddOptions<AuditSinkOptions>().BindConfiguration(AuditSinkOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        var postgres = DeploymentMode.PostgresConnectionString(configuration);
        services.AddDbContext<AuditDbContext>(options => AuditDbContext.Configure(options, postgres, contentRoot));
        services.AddDatabaseLifecycle<AuditDbContext>();
        services.AddScoped<SignEventWriter>();
        services.AddScoped<AuditTrailWriter>();
        return services;
    }

    public static void AddAuditSinkConsumers(this IBusRegistrationConfigurator bus) =>
        bus.AddConsumer<SignEventsConsumer, SignEventsConsumerDefinition>();
}
