using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeSigner.ServiceDefaults;

/// <summary>
/// A job that runs on a schedule in a scope of its own: every <see cref="Interval"/> on the host's
/// <see cref="TimeProvider"/>, and once before the host goes on starting when <see cref="RunsAtStart"/>. A run that
/// fails is logged with its reason and the next one goes ahead; cancellation ends the job.
/// </summary>
public abstract class PeriodicJob(IServiceScopeFactory scopes, TimeProvider time, ILogger logger) : BackgroundService
{
    /// <summary>What the job does, for its log lines ("Retention", "Pruning").</summary>
    protected abstract string What { get; }

    protected abstract TimeSpan Interval { get; }

    /// <summary>Whether the first run happens at start, before the host starts what comes after this job.</summary>
    protected virtual bool RunsAtStart => false;

    protected TimeProvider Time => time;

    /// <summary>One scheduled run, with the services of its own scope.</summary>
    protected abstract Task RunAsync(IServiceProvider services, CancellationToken cancellationToken);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (RunsAtStart)
        {
            await RunScheduledAsync(cancellationToken);
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await RunScheduledAsync(stoppingToken);
        }
    }

    private async Task RunScheduledAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await RunAsync(scope.ServiceProvider, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError("{What} failed ({Reason}); it runs again in {Interval}", What, ex.GetType().Name, Interval);
        }
    }
}
