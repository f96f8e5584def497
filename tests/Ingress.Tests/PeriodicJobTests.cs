using EdgeSigner.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace EdgeSigner.Ingress.Tests;

/// <summary>The schedule every periodic job shares (retention, roll-ups, pruning), on a fake clock.</summary>
public sealed class PeriodicJobTests
{
    [Fact]
    public async Task It_runs_at_start_if_asked_then_every_interval_and_a_failed_run_does_not_stop_it()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero));
        await using var services = new ServiceCollection().BuildServiceProvider();
        using var job = new CountingJob(services.GetRequiredService<IServiceScopeFactory>(), clock, failFirst: true);

        await job.StartAsync(CancellationToken.None);
        Assert.Equal(1, job.Runs); // at start, and it failed

        // The schedule's timer starts on the host's thread pool: move the clock a minute at a time until two more runs happened.
        var start = clock.GetUtcNow();
        for (var step = 0; step < 300 && job.Runs < 3; step++)
        {
            clock.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(5);
        }

        await job.StopAsync(CancellationToken.None);
        Assert.Equal(3, job.Runs); // the failed first run did not stop the schedule
        Assert.True(clock.GetUtcNow() - start >= TimeSpan.FromMinutes(10), "a run came before its interval was up");
    }

    private sealed class CountingJob(IServiceScopeFactory scopes, TimeProvider time, bool failFirst)
        : PeriodicJob(scopes, time, NullLogger.Instance)
    {
        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        protected override string What => "Counting";
        protected override TimeSpan Interval => TimeSpan.FromMinutes(5);
        protected override bool RunsAtStart => true;

        protected override Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
        {
            var run = Interlocked.Increment(ref _runs);
            return run == 1 && failFirst ? throw new InvalidOperationException("the first run fails") : Task.CompletedTask;
        }
    }
}
