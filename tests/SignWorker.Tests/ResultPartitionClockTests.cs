using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.Results;
using EdgeSigner.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EdgeSigner.SignWorker.Tests;

/// <summary>
/// The worker's results at a pinned clock across New Year's Eve and 29 February: each claim lands in the daily
/// partition of its own time (made when missing), read back from PostgreSQL.
/// </summary>
public sealed class ResultPartitionClockTests
{
    [Theory]
    [InlineData("2026-12-31T23:59:59.999Z", "2027-01-01T00:00:00.001Z")]
    [InlineData("2028-02-28T23:59:59.999Z", "2028-02-29T00:00:00.000Z")]
    [InlineData("2028-02-29T23:59:59.999Z", "2028-03-01T00:00:00.000Z")]
    public async Task A_claim_on_either_side_of_midnight_lands_in_its_own_days_partition(string before, string after)
    {
        var first = DateTimeOffset.Parse(before, System.Globalization.CultureInfo.InvariantCulture);
        var second = DateTimeOffset.Parse(after, System.Globalization.CultureInfo.InvariantCulture);
        var clock = new FakeTimeProvider(first);
        await using var pipeline = await Pipeline.CreateAsync();
        pipeline.Clock = clock;
        var worker = await pipeline.StartWorkerAsync();

        var ids = new List<Guid>();
        foreach (var at in new[] { first, second })
        {
            clock.SetUtcNow(at);
            var request = Request();
            await using var scope = worker.Services.CreateAsyncScope();
            Assert.Equal(ClaimKind.Claimed, (await scope.ServiceProvider.GetRequiredService<SignResultStore>().ClaimOrReplayAsync(request, new string('a', 64), "test-worker", CancellationToken.None)).Kind);
            ids.Add(request.RequestId);
        }

        var rows = await Sql.QueryAsync(pipeline.Postgres,
            "SELECT request_id, tableoid::regclass::text, created_at FROM signer.sign_results ORDER BY created_at");
        Assert.Equal(
            [(ids[0], $"signer.sign_results_p{first.UtcDateTime:yyyyMMdd}", first.UtcDateTime), (ids[1], $"signer.sign_results_p{second.UtcDateTime:yyyyMMdd}", second.UtcDateTime)],
            rows.Select(r => ((Guid)r[0]!, (string)r[1]!, (DateTime)r[2]!)));
    }

    private static SignRequested Request() => new()
    {
        RequestId = Guid.NewGuid(), TenantId = "acme", Kid = Pipeline.Kid, Format = "raw", TbsDigest = new byte[32], PayloadSize = 1,
        Deadline = DateTimeOffset.MaxValue, ReceivedAt = DateTimeOffset.UnixEpoch,
    };
}
