using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace EdgeSigner.Guardrails.Flags;

public static class FlagsRegistration
{
    /// <summary>This process's flag state and its sync settings (once, whichever services the process hosts).</summary>
    public static IServiceCollection AddFlagsState(this IServiceCollection services)
    {
        services.TryAddSingleton<FlagsState>();
        services.AddOptions<FlagsSyncOptions>().BindConfiguration(FlagsSyncOptions.SectionName)
            .ValidateDataAnnotations().ValidateOnStart();
        return services;
    }

    /// <summary>Subscribes this instance to <c>FlagsChanged</c> on a queue of its own.</summary>
    public static void AddFlagsChangedConsumer(this IBusRegistrationConfigurator bus) =>
        bus.AddConsumer<FlagsChangedConsumer, FlagsChangedConsumerDefinition>();
}
