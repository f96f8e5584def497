using EdgeSigner.ServiceDefaults.Partitions;
using EdgeSigner.Contracts.Flags;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.ServiceDefaults;
using EdgeSigner.Guardrails.Flags;
using EdgeSigner.SignWorker.Batches;
using EdgeSigner.SignWorker.CircuitBreaking;
using EdgeSigner.SignWorker.Data;
using EdgeSigner.SignWorker.Keys;
using EdgeSigner.SignWorker.Observability;
using EdgeSigner.SignWorker.Results;
using EdgeSigner.SignWorker.RateLimiting;
using EdgeSigner.Guardrails.RateLimiting;
using Npgsql;
using EdgeSigner.SignWorker.Senders;
using EdgeSigner.SignWorker.Signing;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EdgeSigner.SignWorker.Hosting;

public static class SignWorkerHosting
{
    /// <summary>The standalone worker process: RabbitMQ, the signing consumer, a management port for health.</summary>
    public static WebApplicationBuilder AddSignWorker(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!DeploymentMode.IsDistributed(builder.Configuration))
        {
            throw new InvalidSettingException(
                "ConnectionStrings:RabbitMq is not set. The worker runs on its own only in distributed mode; " +
                "in embedded mode 'dotnet run --project src/Ingress' hosts it.");
        }

        var postgres = DeploymentMode.PostgresConnectionString(builder.Configuration);
        if (postgres is null && builder.Configuration.GetValue($"{KmsBudgetOptions.SectionName}:Enabled", true))
        {
            throw new InvalidSettingException(
                "ConnectionStrings:Audit is not set: a standalone worker keeps the KMS budget it shares with every other worker " +
                "in PostgreSQL (EdgeSigner:KmsBudget). Set it, or set EdgeSigner__KmsBudget__Enabled=false to run without a budget.");
        }

        builder.AddServiceDefaults();
        builder.ListenByDefaultOn(8081);
        builder.Services.AddSignWorkerServices(postgres, builder.Environment.ContentRootPath);
        builder.Services.AddHostedService<FlagsFetcher>();
        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            bus.AddSignWorkerConsumers();
            bus.AddFlagsChangedConsumer();
            bus.AddRequestClient<GetFlags>(GetFlags.Address);
            bus.UsingEdgeSignerTransport(builder.Configuration);
        });
        return builder;
    }

    /// <summary>
    /// What the worker needs in any host: validated options, the key registry, breakers, and the KMS budget (shared
    /// through PostgreSQL when <paramref name="postgres"/> is given, in memory in embedded mode).
    /// </summary>
    public static IServiceCollection AddSignWorkerServices(this IServiceCollection services, string? postgres, string contentRoot)
    {
        services.AddSignerStore(postgres, contentRoot);
        services.AddOptions<BusIdentityOptions>().BindConfiguration(BusIdentityOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<BusSenders>();
        services.AddScoped<SignPipeline>();
        services.AddScoped<BulkSignPipeline>();
        services.AddSingleton<ClaimedSigner>();
        services.AddSingleton<OutcomeEvents>();
        services.AddOptions<SignWorkerOptions>().BindConfiguration(SignWorkerOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<FailurePolicyOptions>().BindConfiguration(FailurePolicyOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSigningKeys();
        services.AddFlagsState();
        services.AddSingleton<KmsCircuitBreakers>();
        services.AddSingleton<SignerMetrics>();
        services.AddSingleton<FallbackSigner>();
        services.AddSingleton<SyncFirst>();
        services.AddOptions<KmsBudgetOptions>().BindConfiguration(KmsBudgetOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<KmsBudget>();
        if (postgres is null)
        {
            services.AddSingleton<IKmsBudgetStore, InMemoryKmsBudgetStore>();
        }
        else
        {
            services.AddSingleton(_ => NpgsqlDataSource.Create(postgres));
            services.AddSingleton<IKmsBudgetStore, PostgresKmsBudgetStore>();
        }

        services.AddHostedService<CircuitBreakerStatusReporter>();
        services.AddSingleton<SigningKeysAnnouncer>();
        services.AddHostedService(sp => sp.GetRequiredService<SigningKeysAnnouncer>());
        services.AddSingleton<OutcomeOutbox>(); // active where the store is PostgreSQL (an NpgsqlDataSource is registered)
        services.AddHostedService(sp => sp.GetRequiredService<OutcomeOutbox>());
        return services;
    }

    /// <summary>The key registry: the worker's keys, loaded and checked at start.</summary>
    private static IServiceCollection AddSigningKeys(this IServiceCollection services)
    {
        services.AddOptions<SigningOptions>().BindConfiguration(SigningOptions.SectionName)
            .PostConfigure<IConfiguration>((signing, configuration) =>
            {
                if (signing.Keys.Count == 0 && !DeploymentMode.IsDistributed(configuration))
                {
                    signing.Keys.Add(SigningOptions.DevKey());
                }
            })
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<SigningOptions>, SigningOptionsValidator>();
        services.AddSingleton<SigningKeyRegistry>();
        services.AddHostedService(sp => sp.GetRequiredService<SigningKeyRegistry>());
        return services;
    }

    /// <summary>Results, claims and the outbox (<c>signer</c> schema, migrated at start).</summary>
    private static IServiceCollection AddSignerStore(this IServiceCollection services, string? postgres, string contentRoot)
    {
        services.AddDbContext<SignerDbContext>(options => SignerDbContext.Configure(options, postgres, contentRoot));
        services.AddDatabaseLifecycle<SignerDbContext>();
        if (postgres is null)
        {
            services.AddScoped<SignResultStore, EmbeddedSignResultStore>();
            services.AddSingleton<IResultRetention, EmbeddedResultRetention>();
        }
        else
        {
            services.AddScoped<SignResultStore, PostgresSignResultStore>();
            services.AddSingleton<IResultRetention, PartitionedResultRetention>();
        }
        services.AddRetentionOptions();
        services.AddSingleton<ResultRetentionJob>();
        services.AddHostedService(sp => sp.GetRequiredService<ResultRetentionJob>());
        return services;
    }

    public static void AddSignWorkerConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<SignRequestedConsumer, SignRequestedConsumerDefinition>();
        bus.AddConsumer<SignBatchItemConsumer, SignBatchItemConsumerDefinition>();
        bus.AddConsumer<SubmitBatchConsumer, SubmitBatchConsumerDefinition>();
        bus.AddRequestClient<GetBatchState>(GetBatchState.Address); // asked before a batch is split: the ingress owns batches
        bus.AddRequestClient<AdmitBusRequest>(AdmitBusRequest.Address); // a tenant's own bus request: the ingress owns tenants
        bus.AddConsumer<ResetCircuitBreakersConsumer, ResetCircuitBreakersConsumerDefinition>();
        bus.AddConsumer<AnnounceSigningKeysConsumer, AnnounceSigningKeysConsumerDefinition>();
    }
}
