using EdgeSigner.Ingress.Data;
using EdgeSigner.Ingress.RateLimiting;
using EdgeSigner.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace EdgeSigner.Ingress.Tests;

/// <summary>
/// Tenant limits leased in blocks from the one shared bucket: one call to the bucket per block, never more than the
/// bucket gives out across instances, and a lease not spent within its time dropped (the stated tolerance).
/// </summary>
public sealed class TenantRateLimiterTests
{
    private const string Tenant = "acme";
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));

    /// <summary>The shared bucket, counting the calls made to it.</summary>
    private sealed class CountingBuckets(ITenantBuckets inner) : ITenantBuckets
    {
        public int Calls;

        public Task<TenantGrant> TakeAsync(string tenantId, double ratePerSecond, int burst, int wanted, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            return inner.TakeAsync(tenantId, ratePerSecond, burst, wanted, cancellationToken);
        }

        public Task ClearAsync(string tenantId, CancellationToken cancellationToken) => inner.ClearAsync(tenantId, cancellationToken);
    }

    [Theory]
    [InlineData(5, 10, 1)]           // small limits: a token at a time, as without leasing
    [InlineData(50, 100, 2)]         // the default limit: 5% of the rate
    [InlineData(400, 100, 10)]       // a tenth of the burst
    [InlineData(1_000_000, 1_000_000, 50)]
    public void A_block_is_small_beside_the_rate_and_the_burst(double rate, int burst, int expected) =>
        Assert.Equal(expected, TenantRateLimiter.BlockSize(rate, burst));

    [Fact]
    public async Task One_call_to_the_shared_bucket_serves_a_block_of_requests()
    {
        var buckets = new CountingBuckets(new InMemoryTenantBuckets(_clock));
        using var limiter = new TenantRateLimiter(buckets, _clock);

        var allowed = await TakeAsync(limiter, 400, 200, count: 20); // blocks of 20
        Assert.Equal(20, allowed);
        Assert.Equal(1, buckets.Calls);

        Assert.Equal(1, await TakeAsync(limiter, 400, 200, count: 1));
        Assert.Equal(2, buckets.Calls);
    }

    [Fact]
    public async Task Two_instances_together_get_exactly_what_the_bucket_gives_out()
    {
        var buckets = new InMemoryTenantBuckets(_clock);
        using var a = new TenantRateLimiter(buckets, _clock);
        using var b = new TenantRateLimiter(buckets, _clock);

        var allowed = 0;
        for (var i = 0; i < 300; i++)
        {
            allowed += await TakeAsync(i % 2 == 0 ? a : b, 400, 200, count: 1);
        }

        Assert.Equal(200, allowed); // the burst, no more; the clock stood still
    }

    [Fact]
    public async Task A_lease_left_unspent_is_dropped_after_its_time_and_costs_at_most_a_block()
    {
        var buckets = new InMemoryTenantBuckets(_clock);
        using var a = new TenantRateLimiter(buckets, _clock);
        using var b = new TenantRateLimiter(buckets, _clock);

        Assert.Equal(1, await TakeAsync(a, 400, 200, count: 1)); // a leases 20 and holds 19
        var drainedOnB = await TakeAsync(b, 400, 200, count: 300);
        Assert.Equal(200 - 20, drainedOnB); // refused 19 sooner than one bucket would: less than a block

        _clock.Advance(TenantRateLimiter.LeaseTtl); // a's 19 expire; the bucket refills 400 × 0.25 s = 100
        var afterwards = await TakeAsync(a, 400, 200, count: 300) + await TakeAsync(b, 400, 200, count: 300);
        Assert.Equal(100, afterwards); // the refill only: the expired lease is not spent
    }

    [Fact]
    public async Task An_empty_bucket_refuses_with_the_time_until_the_next_token()
    {
        var buckets = new InMemoryTenantBuckets(_clock);
        using var limiter = new TenantRateLimiter(buckets, _clock);
        await TakeAsync(limiter, 5, 10, count: 10);

        var refused = await limiter.TakeAsync(Tenant, 5, 10, CancellationToken.None);

        Assert.False(refused.Allowed);
        Assert.Equal(TimeSpan.FromSeconds(0.2), refused.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(2), refused.ResetAfter);
    }

    [Fact]
    public async Task Clear_refills_the_bucket_and_drops_this_instances_lease()
    {
        var buckets = new InMemoryTenantBuckets(_clock);
        using var limiter = new TenantRateLimiter(buckets, _clock);
        Assert.Equal(200, await TakeAsync(limiter, 400, 200, count: 300));

        await limiter.ClearAsync(Tenant, CancellationToken.None);

        Assert.Equal(200, await TakeAsync(limiter, 400, 200, count: 300));
    }

    [Fact]
    public async Task The_postgresql_bucket_grants_a_block_in_one_statement_and_refuses_when_empty()
    {
        var connectionString = await TestServers.CreatePostgresDatabaseAsync();
        try
        {
            // The ingress's migrations create the table and the shared token-bucket function, as at the ingress's start.
            await using (var db = new IngressDbContext(
                (DbContextOptions<IngressDbContext>)IngressDbContext.Configure(new DbContextOptionsBuilder<IngressDbContext>(), connectionString, ".").Options))
            {
                await db.Database.MigrateAsync();
            }

            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            var buckets = new PostgresTenantBuckets(dataSource);

            // Rate 1/s so that the time between statements refills next to nothing; what it does refill is bounded by
            // the time measured here.
            var elapsed = System.Diagnostics.Stopwatch.StartNew();
            var first = await buckets.TakeAsync(Tenant, 1, 50, wanted: 20, CancellationToken.None);
            var rest = await buckets.TakeAsync(Tenant, 1, 50, wanted: 100, CancellationToken.None);
            var refilled = elapsed.Elapsed.TotalSeconds;

            Assert.Equal(20, first.Granted);
            Assert.InRange(first.Tokens, 30, 30 + refilled);
            Assert.InRange(rest.Granted, 30, 30 + (int)Math.Ceiling(refilled)); // what was left, all of it
            Assert.InRange(rest.Tokens, 0, 1);

            var empty = await buckets.TakeAsync(Tenant, 0.01, 50, wanted: 20, CancellationToken.None);
            Assert.Equal(0, empty.Granted);

            await buckets.ClearAsync(Tenant, CancellationToken.None);
            Assert.Equal(20, (await buckets.TakeAsync(Tenant, 1, 50, wanted: 20, CancellationToken.None)).Granted);
        }
        finally
        {
            await TestServers.DropPostgresDatabaseAsync(connectionString);
        }
    }

    private static async Task<int> TakeAsync(TenantRateLimiter limiter, double rate, int burst, int count)
    {
        var allowed = 0;
        for (var i = 0; i < count; i++)
        {
            if ((await limiter.TakeAsync(Tenant, rate, burst, CancellationToken.None)).Allowed)
            {
                allowed++;
            }
        }

        return allowed;
    }
}
