using EdgeSigner.Contracts.Breakers;
using EdgeSigner.SignWorker.CircuitBreaking;

namespace EdgeSigner.SignWorker.Tests;

/// <summary>The seed's breaker rules on the pure state, with time given explicitly.</summary>
public sealed class BreakerStateTests
{
    private static readonly BreakerRules Rules = BreakerRules.Seed;
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Five_failures_in_a_minute_keep_it_closed_and_the_sixth_opens_it()
    {
        var state = BreakerState.Closed;
        for (var i = 0; i < 5; i++)
        {
            state = state.OnFailure(T0.AddSeconds(i * 10), throttled: false, Rules);
            Assert.Equal(BreakerStates.Closed, state.State);
        }

        state = state.OnFailure(T0.AddSeconds(59), throttled: false, Rules);

        Assert.Equal(BreakerStates.Open, state.State);
        Assert.Equal("failure_threshold", state.LastTransitionReason);
        Assert.False(state.TryAcquire(T0.AddSeconds(60), Rules).Allowed);
    }

    [Fact]
    public void Failures_older_than_the_window_do_not_count()
    {
        var state = BreakerState.Closed;
        for (var i = 0; i < 5; i++)
        {
            state = state.OnFailure(T0.AddSeconds(i), throttled: false, Rules);
        }

        state = state.OnFailure(T0.AddSeconds(70), throttled: false, Rules);

        Assert.Equal(BreakerStates.Closed, state.State);
        Assert.Equal(1, state.FailuresInWindow);
    }

    [Fact]
    public void One_throttle_opens_it_at_once()
    {
        var state = BreakerState.Closed.OnFailure(T0, throttled: true, Rules);

        Assert.Equal((BreakerStates.Open, "throttled"), (state.State, state.LastTransitionReason));
    }

    [Fact]
    public void After_the_reset_interval_exactly_one_probe_goes_through_and_its_success_closes_it()
    {
        var open = BreakerState.Closed.OnFailure(T0, throttled: true, Rules);
        Assert.False(open.TryAcquire(T0 + Rules.ResetInterval - TimeSpan.FromMilliseconds(1), Rules).Allowed);

        var (probe, halfOpen) = open.TryAcquire(T0 + Rules.ResetInterval, Rules);
        Assert.True(probe);
        Assert.Equal(BreakerStates.HalfOpen, halfOpen.State);
        Assert.False(halfOpen.TryAcquire(T0 + Rules.ResetInterval, Rules).Allowed); // the one probe is out

        var closed = halfOpen.OnSuccess(T0 + Rules.ResetInterval + TimeSpan.FromSeconds(1));
        Assert.Equal((BreakerStates.Closed, "probe_succeeded"), (closed.State, closed.LastTransitionReason));
        Assert.True(closed.TryAcquire(T0 + Rules.ResetInterval + TimeSpan.FromSeconds(1), Rules).Allowed);
    }

    [Fact]
    public void A_failed_probe_reopens_it_for_another_interval()
    {
        var (_, halfOpen) = BreakerState.Closed.OnFailure(T0, throttled: true, Rules).TryAcquire(T0 + Rules.ResetInterval, Rules);
        var reopenedAt = T0 + Rules.ResetInterval + TimeSpan.FromSeconds(1);

        var reopened = halfOpen.OnFailure(reopenedAt, throttled: false, Rules);

        Assert.Equal((BreakerStates.Open, "probe_failed"), (reopened.State, reopened.LastTransitionReason));
        Assert.False(reopened.TryAcquire(reopenedAt + Rules.ResetInterval - TimeSpan.FromSeconds(1), Rules).Allowed);
        Assert.True(reopened.TryAcquire(reopenedAt + Rules.ResetInterval, Rules).Allowed);
    }

    [Fact]
    public void An_inconclusive_probe_frees_the_probe_without_a_verdict()
    {
        var (_, halfOpen) = BreakerState.Closed.OnFailure(T0, throttled: true, Rules).TryAcquire(T0 + Rules.ResetInterval, Rules);

        var freed = halfOpen.OnInconclusive();

        Assert.Equal(BreakerStates.HalfOpen, freed.State);
        Assert.True(freed.TryAcquire(T0 + Rules.ResetInterval, Rules).Allowed);
    }

    [Fact]
    public void An_operator_reset_closes_an_open_breaker_with_a_clean_window()
    {
        var open = BreakerState.Closed.OnFailure(T0, throttled: true, Rules);

        var reset = open.Reset(T0.AddSeconds(1));

        Assert.Equal((BreakerStates.Closed, "operator_reset", 0), (reset.State, reset.LastTransitionReason, reset.FailuresInWindow));
        Assert.Equal(1, reset.TotalFailures);
    }
}
