using EdgeSigner.Guardrails.Flags;
using EdgeSigner.Guardrails.RateLimiting;
using EdgeSigner.SignWorker.CircuitBreaking;
using EdgeSigner.SignWorker.Keys;
using EdgeSigner.SignWorker.Observability;
using EdgeSigner.SignWorker.RateLimiting;
using EdgeSigner.SignWorker.Results;
using EdgeSigner.SignWorker.Signing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EdgeSigner.SignWorker.Tests.Signing;

/// <summary>
/// The worker's signing services as the worker registers them, with the real breakers, budget (in memory), metrics
/// and flags, a short retry policy, and MassTransit's in-memory test harness for the bus. No store: these are the
/// steps around it.
/// </summary>
public static class SigningServices
{
    public static ServiceProvider Build(Action<IServiceCollection>? add = null, Action<IBusRegistrationConfigurator>? bus = null)
    {
        var services = new ServiceCollection();
        add?.Invoke(services);
        services.AddLogging();
        services.AddMetrics();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IHostEnvironment>(new TestEnvironment());
        services.Configure<FailurePolicyOptions>(o =>
        {
            o.MaxRetries = 2;
            o.BaseDelayMs = 1;
            o.MaxDelayMs = 2;
            o.FallbackTimeoutMs = 2000;
        });
        services.AddOptions<SigningOptions>();
        services.AddOptions<KmsBudgetOptions>();
        services.AddOptions<SignWorkerOptions>();
        services.AddSingleton<KmsCircuitBreakers>();
        services.AddSingleton<SigningKeyRegistry>();
        services.AddSingleton<SignerMetrics>();
        services.AddSingleton<IKmsBudgetStore, InMemoryKmsBudgetStore>();
        services.AddSingleton<KmsBudget>();
        services.AddSingleton<FallbackSigner>();
        services.AddFlagsState();
        services.AddSingleton<SyncFirst>();
        services.AddSingleton<ClaimedSigner>();
        services.AddSingleton<OutcomeOutbox>();
        services.AddSingleton<OutcomeEvents>();
        services.AddMassTransitTestHarness(x => bus?.Invoke(x));
        return services.BuildServiceProvider();
    }

    private sealed class TestEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Testing";
        public string ApplicationName { get; set; } = "SignWorker.Tests";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}
