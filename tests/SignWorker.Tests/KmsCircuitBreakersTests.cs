using EdgeSigner.Contracts.Breakers;
using EdgeSigner.SignWorker.CircuitBreaking;
using EdgeSigner.SignWorker.Signing;
using EdgeSigner.SignWorker.Tests.Signing;
using EdgeSigner.Testing;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeSigner.SignWorker.Tests;

/// <summary>
/// The breakers of one key as the worker composes them from MassTransit's <c>CircuitBreakerFilter</c>: the real
/// filters, calls whose outcome each test chooses, and the transitions they publish. MassTransit's timers read the
/// wall clock, so the reset interval is short here and every wait is for a state, never a fixed time.
/// </summary>
public sealed class KmsCircuitBreakersTests : IAsyncLifetime
{
    private const string Key = "kms-key-1";
    private const string Region = "eu-west-1";

    private static readonly KmsCallFailedException Throttle = Failure(KmsFaultKind.Throttled, "kms_throttled");
    private static readonly KmsCallFailedException Unavailable = Failure(KmsFaultKind.Transient, "kms_unavailable");

    private readonly ServiceProvider _services = SigningServices.Build(services => services.PostConfigure<FailurePolicyOptions>(o =>
    {
        o.BreakerResetIntervalMs = 300;
        o.BreakerWindowMs = 600_000;
    }));

    private KmsCircuitBreakers Breakers => _services.GetRequiredService<KmsCircuitBreakers>();

    private int _ran;

    public Task InitializeAsync() => _services.GetRequiredService<ITestHarness>().Start();

    [Fact]
    public async Task A_throttle_opens_the_throttle_breaker_once_it_has_seen_a_call_and_an_open_breaker_runs_nothing()
    {
        Assert.True(await SendAsync(null));
        await Assert.ThrowsAsync<KmsCallFailedException>(() => SendAsync(Throttle));

        Assert.False(await SendAsync(null)); // refused: the work did not run
        Assert.Equal(2, _ran);
        Assert.Equal((BreakerStates.Open, "throttled"), State());
        await AssertPublishedAsync(BreakerStates.Closed, BreakerStates.Open, "throttled");
    }

    [Fact]
    public async Task More_than_five_calls_with_failures_open_the_failure_breaker_and_its_failures_are_counted_until_then()
    {
        Assert.True(await SendAsync(null));
        for (var i = 0; i < 4; i++)
        {
            await Assert.ThrowsAsync<KmsCallFailedException>(() => SendAsync(Unavailable));
        }

        Assert.Equal(BreakerStates.Closed, State().State);
        Assert.Equal(4, Breakers.Snapshot().Single().FailuresInWindow);

        await Assert.ThrowsAsync<KmsCallFailedException>(() => SendAsync(Unavailable)); // the sixth call, fifth failure

        Assert.Equal((BreakerStates.Open, "failure_threshold"), State());
        Assert.False(await SendAsync(null));
        var changed = await AssertPublishedAsync(BreakerStates.Closed, BreakerStates.Open, "failure_threshold");
        Assert.Equal(5, changed.FailuresInWindow);
    }

    [Fact]
    public async Task A_bad_request_a_disabled_key_or_a_call_that_never_went_out_trips_nothing()
    {
        for (var i = 0; i < 10; i++)
        {
            await Assert.ThrowsAsync<KmsCallFailedException>(() => SendAsync(Failure(KmsFaultKind.Configuration, "kms_key_disabled")));
            await Assert.ThrowsAsync<KmsCallFailedException>(() => SendAsync(Failure(KmsFaultKind.Throttled, "kms_budget_exhausted", reached: false)));
        }

        Assert.Equal(BreakerStates.Closed, State().State);
        Assert.Equal(0, Breakers.Snapshot().Single().TotalFailures);
        Assert.True(await SendAsync(null));
    }

    [Fact]
    public async Task After_the_reset_interval_a_failed_probe_reopens_and_successful_ones_close_it()
    {
        await OpenByThrottleAsync();
        await WaitForAsync(BreakerStates.HalfOpen);

        await Assert.ThrowsAsync<KmsCallFailedException>(() => SendAsync(Throttle));
        Assert.Equal((BreakerStates.Open, "probe_failed"), State());

        await WaitForAsync(BreakerStates.HalfOpen);
        Assert.Equal("reset_interval", State().Reason);
        Assert.True(await SendAsync(null)); // half-open lets calls through; the throttle breaker closes on its second success
        Assert.Equal(BreakerStates.HalfOpen, State().State);
        Assert.True(await SendAsync(null));

        Assert.Equal((BreakerStates.Closed, "probe_succeeded"), State());
        await AssertPublishedAsync(BreakerStates.HalfOpen, BreakerStates.Closed, "probe_succeeded");
    }

    [Fact]
    public async Task An_operator_reset_closes_an_open_breaker_at_once()
    {
        await OpenByThrottleAsync();

        Breakers.ResetAll();

        Assert.Equal((BreakerStates.Closed, "operator_reset"), State());
        Assert.True(await SendAsync(null));
        await AssertPublishedAsync(BreakerStates.Open, BreakerStates.Closed, "operator_reset");
    }

    [Fact]
    public async Task With_the_flag_off_the_work_runs_without_a_breaker()
    {
        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<KmsCallFailedException>(() => Breakers.TrySendAsync(Key, Region, enabled: false, () => Run(Throttle), CancellationToken.None));
        }

        Assert.Equal(3, _ran);
        Assert.Empty(Breakers.Snapshot());
    }

    private async Task OpenByThrottleAsync()
    {
        Assert.True(await SendAsync(null));
        await Assert.ThrowsAsync<KmsCallFailedException>(() => SendAsync(Throttle));
        Assert.Equal(BreakerStates.Open, State().State);
    }

    private Task<bool> SendAsync(KmsCallFailedException? failure) =>
        Breakers.TrySendAsync(Key, Region, enabled: true, () => Run(failure), CancellationToken.None);

    private Task Run(KmsCallFailedException? failure)
    {
        Interlocked.Increment(ref _ran);
        return failure is null ? Task.CompletedTask : Task.FromException(failure);
    }

    private (string State, string? Reason) State()
    {
        var status = Breakers.Snapshot().Single();
        return (status.State, status.LastTransitionReason);
    }

    private Task<string> WaitForAsync(string state) =>
        Eventually.GetAsync(() => Task.FromResult(State().State), s => s == state, TimeSpan.FromSeconds(10), $"the breaker {state}");

    private async Task<CircuitBreakerStateChanged> AssertPublishedAsync(string from, string to, string reason)
    {
        var harness = _services.GetRequiredService<ITestHarness>();
        Assert.True(await harness.Published.Any<CircuitBreakerStateChanged>(m =>
            m.Context.Message.From == from && m.Context.Message.To == to && m.Context.Message.Reason == reason), $"{from} -> {to} ({reason}) published");
        return harness.Published.Select<CircuitBreakerStateChanged>(m =>
            m.Context.Message.From == from && m.Context.Message.To == to && m.Context.Message.Reason == reason).First().Context.Message;
    }

    private static KmsCallFailedException Failure(KmsFaultKind kind, string errorType, bool reached = true) =>
        new(new KmsFault(kind, errorType, "injected"), reached);

    public async Task DisposeAsync() => await _services.DisposeAsync();
}
