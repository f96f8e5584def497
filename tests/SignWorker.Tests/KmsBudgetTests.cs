using EdgeSigner.Guardrails.RateLimiting;
using EdgeSigner.SignWorker.Data;
using EdgeSigner.SignWorker.RateLimiting;
using EdgeSigner.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace EdgeSigner.SignWorker.Tests;

/// <summary>
/// The KMS budget serves synchronous requests first across workers: batch items lease only above a reserve of one
/// block, which synchronous callers may take; with no synchronous caller the batch still gets the whole rate.
/// </summary>
public sealed class KmsBudgetTests
{
    private const string Region = "eu-central-1";
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));

    // 500/s with 50 ms leases: blocks of 25, a shared bucket of 50, a reserve of 25.
    private static IOptions<KmsBudgetOptions> Options500 => Options.Create(new KmsBudgetOptions { Regions = { [Region] = 500 }, LeaseMs = 50 });

    [Fact]
    public async Task Batch_items_leave_the_reserve_and_a_synchronous_request_on_another_worker_takes_it()
    {
        var store = new InMemoryKmsBudgetStore(_clock);
        using var batchWorker = new KmsBudget(store, Options500, _clock);
        using var syncWorker = new KmsBudget(store, Options500, _clock);

        var batchGot = await CountAsync(batchWorker, lowPriority: true);
        var syncGot = await CountAsync(syncWorker, lowPriority: false);

        Assert.Equal(25, batchGot); // the bucket's 50 less the reserve
        Assert.Equal(25, syncGot);  // the reserve
        Assert.Equal(0, await CountAsync(batchWorker, lowPriority: true));
    }

    [Fact]
    public async Task Without_synchronous_callers_batch_items_get_the_whole_rate()
    {
        var store = new InMemoryKmsBudgetStore(_clock);
        using var budget = new KmsBudget(store, Options500, _clock);
        var first = await CountAsync(budget, lowPriority: true);

        var granted = 0;
        for (var step = 0; step < 200; step++)
        {
            _clock.Advance(TimeSpan.FromMilliseconds(10));
            granted += await CountAsync(budget, lowPriority: true);
        }

        Assert.Equal(25, first);
        Assert.InRange(granted, 1000 - 25, 1000); // two seconds at 500/s: all of it, less at most what sits above the reserve
    }

    [Fact]
    public async Task The_shared_postgresql_bucket_keeps_the_same_reserve()
    {
        var connectionString = await TestServers.CreatePostgresDatabaseAsync();
        try
        {
            // The worker's migrations create the table and the shared token-bucket function, as at a worker's start.
            await using (var db = new SignerDbContext(
                (DbContextOptions<SignerDbContext>)SignerDbContext.Configure(new DbContextOptionsBuilder<SignerDbContext>(), connectionString, ".").Options))
            {
                await db.Database.MigrateAsync();
            }

            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            var store = new PostgresKmsBudgetStore(dataSource);

            // Rate 1/s so that the time between statements refills next to nothing; a bucket of 50. What it does refill
            // (a slow machine can take a second between two statements) is bounded by the time measured here.
            var elapsed = System.Diagnostics.Stopwatch.StartNew();
            var batch = await store.LeaseAsync(Region, rate: 1, burst: 50, wanted: 40, reserve: 25, atLeast: 5, CancellationToken.None);
            var batchAgain = await store.LeaseAsync(Region, rate: 1, burst: 50, wanted: 40, reserve: 25, atLeast: 5, CancellationToken.None);
            var sync = await store.LeaseAsync(Region, rate: 1, burst: 50, wanted: 40, reserve: 0, atLeast: 1, CancellationToken.None);
            var refilled = elapsed.Elapsed.TotalSeconds * 1; // at most this many tokens came back meanwhile, at 1/s

            Assert.Equal(25, batch.Granted);
            Assert.Equal(0, batchAgain.Granted);
            // Five tokens above the reserve at 1/s, less what refilled since the first lease.
            Assert.InRange(batchAgain.Wait.TotalSeconds, 5 - refilled - 1, 5);
            Assert.InRange(sync.Granted, 25, 25 + (int)Math.Ceiling(refilled));
        }
        finally
        {
            await TestServers.DropPostgresDatabaseAsync(connectionString);
        }
    }

    /// <summary>How many tokens the worker gets now, without waiting.</summary>
    private async Task<int> CountAsync(KmsBudget budget, bool lowPriority)
    {
        var count = 0;
        while (await budget.AcquireAsync(Region, _clock.GetUtcNow(), CancellationToken.None, lowPriority))
        {
            count++;
        }

        return count;
    }
}
