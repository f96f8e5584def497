using EdgeSigner.ServiceDefaults.Partitions;
using EdgeSigner.AuditSink.Auditing;
using EdgeSigner.AuditSink.Data;
using EdgeSigner.AuditSink.Reporting;
using EdgeSigner.AuditSink.Retention;
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
            throw new InvalidSettingException(
                "ConnectionStrings:RabbitMq and ConnectionStrings:Audit must both be set: the sink runs on its own only in " +
                "distributed mode; in embedded mode 'dotnet run --project src/Ingress' hosts it.");
        }

        builder.AddServiceDefaults();
        builder.ListenByDefaultOn(8082);
        builder.Services.AddAuditSinkServices(builder.Configuration, builder.Environment.ContentRootPath);
        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            bus.AddAuditSinkConsumers();
            bus.UsingEdgeSignerTransport(builder.Configuration);
        });
        return builder;
    }

    /// <summary>
    /// The audit store (PostgreSQL, or SQLite in embedded mode) migrated at start, its writers, and the jobs that
    /// keep it: partitions and retention, and the per-minute roll-ups.
    /// </summary>
    public static IServiceCollection AddAuditSinkServices(this IServiceCollection services, IConfiguration configuration, string contentRoot)
    {
        services.AddOptions<AuditSinkOptions>().BindConfiguration(AuditSinkOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddRetentionOptions();
        var postgres = DeploymentMode.PostgresConnectionString(configuration);
        services.AddDbContext<AuditDbContext>(options => AuditDbContext.Configure(options, postgres, contentRoot));
        services.AddDatabaseLifecycle<AuditDbContext>();
        services.AddScoped<AuditTrailVerifier>();
        services.AddScoped<ComplianceReporter>();
        services.AddScoped<QuotaMonitor>();
        services.AddSingleton(postgres is null ? QuotaQueries.Sqlite : QuotaQueries.Postgres);
        services.AddOptions<EdgeSigner.Guardrails.RateLimiting.KmsBudgetOptions>()
            .BindConfiguration(EdgeSigner.Guardrails.RateLimiting.KmsBudgetOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<SignEventWriter>();
        services.AddSingleton<ISignEventRows>(postgres is null ? new EmbeddedSignEventRows() : new SignEventCopy());
        services.AddSingleton<AuditMetrics>();
        services.AddScoped<AuditTrailWriter>();
        if (postgres is null)
        {
            services.AddSingleton<IChainGate, EmbeddedChainGate>();
        }
        else
        {
            services.AddSingleton<IChainGate, PostgresChainGate>();
        }

        services.AddSingleton<RollupWatermark>();
        services.AddSingleton<LateEvents>();
        services.AddSingleton<IAuditRetention>(postgres is null ? new EmbeddedAuditRetention() : new PartitionedAuditRetention());
        services.AddSingleton<RetentionJob>();
        services.AddHostedService(sp => sp.GetRequiredService<RetentionJob>());
        if (postgres is not null)
        {
            // Embedded mode keeps no roll-ups: the dev store is small enough to aggregate on read.
            services.AddSingleton<MetricsRollupJob>();
            services.AddHostedService(sp => sp.GetRequiredService<MetricsRollupJob>());
        }

        return services;
    }

    public static void AddAuditSinkConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<SignEventsConsumer, SignEventsConsumerDefinition>();
        bus.AddConsumer<AuditQueriesConsumer, AuditQueriesConsumerDefinition>();
    }
}
