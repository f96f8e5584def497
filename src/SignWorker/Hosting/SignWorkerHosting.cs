using EdgeSigner.Contracts.Flags;
using EdgeSigner.ServiceDefaults;
using EdgeSigner.ServiceDefaults.Flags;
using EdgeSigner.SignWorker.CircuitBreaking;
using EdgeSigner.SignWorker.Keys;
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
            throw new InvalidOperationException(
                "ConnectionStrings:RabbitMq is not set. The worker runs on its own only in distributed mode; " +
                "in embedded mode 'dotnet run --project src/Ingress' hosts it.");
        }

        builder.AddServiceDefaults();
        builder.Services.AddSignWorkerServices();
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

    /// <summary>What the worker needs in any host: validated options and the key registry.</summary>
    public static IServiceCollection AddSignWorkerServices(this IServiceCollection services)
    {
        services.AddOptions<SignWorkerOptions>().BindConfiguration(SignWorkerOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<FailurePolicyOptions>().BindConfiguration(FailurePolicyOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSigningKeys();
        services.AddFlagsState();
        services.AddSingleton<KmsCircuitBreakers>();
        services.AddSingleton<FallbackSigner>();
        services.AddHostedService<CircuitBreakerStatusReporter>();
        return services;
    }

    /// <summary>The key registry alone: the ingress uses it for JWKS and the kid of new requests.</summary>
    public static IServiceCollection AddSigningKeys(this IServiceCollection services)
    {
        services.AddOptions<SigningOptions>().BindConfiguration(SigningOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<SigningOptions>, SigningOptionsValidator>();
        services.AddSingleton<SigningKeyRegistry>();
        services.AddHostedService(sp => sp.GetRequiredService<SigningKeyRegistry>());
        return services;
    }

    public static void AddSignWorkerConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<SignRequestedConsumer, SignRequestedConsumerDefinition>();
        bus.AddConsumer<ResetCircuitBreakersConsumer, ResetCircuitBreakersConsumerDefinition>();
    }
}
