using EdgeSigner.Guardrails.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace EdgeSigner.Ingress.Tests;

/// <summary>The bucket arithmetic, on a fake clock.</summary>
public sealed class TokenBucketTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void A_full_bucket_gives_its_burst_at_once_then_nothing()
    {
        var bucket = TokenBucket.Full(10, _clock.GetUtcNow());
        var granted = 0;
        for (var i = 0; i < 15; i++)
        {
            var (got, next) = bucket.Take(_clock.GetUtcNow(), rate: 5, burst: 10);
            granted += got;
            bucket = next;
        }

        Assert.Equal(10, granted);
        Assert.Equal(TimeSpan.FromSeconds(0.2), bucket.TimeUntilToken(5));
    }

    [Fact]
    public void Tokens_refill_at_the_rate_and_never_past_the_burst()
    {
        var bucket = new TokenBucket(0, _clock.GetUtcNow());

        _clock.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(2.5, bucket.Refill(_clock.GetUtcNow(), rate: 5, burst: 10).Tokens, 9);

        _clock.Advance(TimeSpan.FromHours(1));
        var full = bucket.Refill(_clock.GetUtcNow(), rate: 5, burst: 10);
        Assert.Equal(10, full.Tokens);
        Assert.Equal(TimeSpan.Zero, full.TimeUntilFull(5, 10));
    }

    [Fact]
    public void Taking_needs_a_whole_token()
    {
        var bucket = new TokenBucket(0.9, _clock.GetUtcNow());

        var (got, next) = bucket.Take(_clock.GetUtcNow(), rate: 1, burst: 5);

        Assert.Equal(0, got);
        Assert.Equal(0.9, next.Tokens, 9);
        Assert.Equal(100, next.TimeUntilToken(1).TotalMilliseconds, 3);
    }

    [Fact]
    public void A_clock_that_jumps_back_refills_nothing_and_keeps_the_bucket_time()
    {
        var start = _clock.GetUtcNow();
        var bucket = new TokenBucket(1, start);

        var back = bucket.Refill(start.AddMinutes(-5), rate: 100, burst: 10);
        Assert.Equal((1.0, start), (back.Tokens, back.UpdatedAt));

        // Time lost going back is not counted twice when the clock returns.
        var later = back.Refill(start.AddSeconds(0.05), rate: 100, burst: 10);
        Assert.Equal(6, later.Tokens, 9);
    }

    [Fact]
    public void Taking_a_block_grants_what_is_there_up_to_the_block()
    {
        var bucket = new TokenBucket(7.5, _clock.GetUtcNow());

        var (got, next) = bucket.Take(_clock.GetUtcNow(), rate: 500, burst: 50, wanted: 25);
        Assert.Equal(7, got);
        Assert.Equal(0.5, next.Tokens, 9);

        _clock.Advance(TimeSpan.FromMilliseconds(100));
        var (block, _) = next.Take(_clock.GetUtcNow(), rate: 500, burst: 50, wanted: 25);
        Assert.Equal(25, block);
    }
}
