using EdgeSigner.Guardrails.Flags;
using Microsoft.Extensions.Options;

namespace EdgeSigner.Ingress.Flags;

/// <summary>
/// Loads the stored flags before the ingress serves, then reloads them periodically: the safety net behind the
/// <c>FlagsChanged</c> events, for an instance that missed one.
/// </summary>
public sealed class FlagsReloader(
    IServiceScopeFactory scopes, FlagsState state, IOptions<FlagsSyncOptions> options, TimeProvider time, ILogger<FlagsReloader> logger)
    : BackgroundService, IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => ReloadAsync(cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.ReloadIntervalMs), time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await ReloadAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Flag reload failed ({Reason}); keeping version {FlagsVersion}", ex.GetType().Name, state.Current.Version);
            }
        }
    }

    private async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        state.TryApply(await scope.ServiceProvider.GetRequiredService<FlagStore>().LoadAsync(cancellationToken));
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
