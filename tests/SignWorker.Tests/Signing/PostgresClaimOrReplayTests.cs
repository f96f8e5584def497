using System.Security.Cryptography;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.Results;
using EdgeSigner.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace EdgeSigner.SignWorker.Tests.Signing;

/// <summary>
/// One result per request id on PostgreSQL, where the claim is one statement (<c>signer.claim_or_replay</c>): the
/// first worker claims, a second finds the claim held, a completed result is replayed with its signature, a claim left
/// by a worker that died is taken over once it expires, and concurrent claims of one request id let exactly one in.
/// </summary>
public sealed class PostgresClaimOrReplayTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 31, 23, 59, 50, TimeSpan.Zero));

    [Fact]
    public async Task Claim_hold_replay_and_take_over_an_expired_claim()
    {
        await using var pipeline = await Pipeline.CreateAsync();
        pipeline.Clock = _clock;
        var worker = await pipeline.StartWorkerAsync();
        var request = Request();
        var hash = Convert.ToHexStringLower(request.TbsDigest);

        Assert.Equal(ClaimKind.Claimed, (await DecideAsync(worker, request, hash, "worker-a")).Kind);
        Assert.Equal(ClaimKind.HeldElsewhere, (await DecideAsync(worker, request, hash, "worker-b")).Kind);
        Assert.Equal(ClaimKind.HeldElsewhere, (await DecideAsync(worker, request, hash, "worker-a")).Kind); // a second delivery to the claimer

        _clock.Advance(SignResultStore.ClaimFor + TimeSpan.FromSeconds(1)); // worker-a died; past midnight too
        Assert.Equal(ClaimKind.Claimed, (await DecideAsync(worker, request, hash, "worker-b")).Kind);
        Assert.Equal("worker-b", await Sql.ScalarAsync<string>(pipeline.Postgres,
            "SELECT claimed_by FROM signer.sign_results WHERE request_id = @id", ("id", request.RequestId)));

        var signature = RandomNumberGenerator.GetBytes(64);
        await using (var scope = worker.Services.CreateAsyncScope())
        {
            Assert.True(await scope.ServiceProvider.GetRequiredService<SignResultStore>()
                .CompleteAsync(new SignResultStore.Outcome(Log(request, hash), signature), CancellationToken.None));
        }

        var replay = await DecideAsync(worker, request, hash, "worker-c");
        Assert.Equal(ClaimKind.Replay, replay.Kind);
        Assert.Equal(signature, replay.Recorded!.Signature);
        Assert.Equal(1L, await Sql.ScalarAsync<long>(pipeline.Postgres,
            "SELECT count(*) FROM signer.sign_results WHERE request_id = @id", ("id", request.RequestId)));
    }

    [Fact]
    public async Task Of_many_concurrent_claims_of_one_request_exactly_one_is_granted()
    {
        await using var pipeline = await Pipeline.CreateAsync();
        var worker = await pipeline.StartWorkerAsync();
        var request = Request();
        var hash = Convert.ToHexStringLower(request.TbsDigest);

        var decisions = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => DecideAsync(worker, request, hash, $"worker-{i}")));

        Assert.Single(decisions, d => d.Kind == ClaimKind.Claimed);
        Assert.Equal(7, decisions.Count(d => d.Kind == ClaimKind.HeldElsewhere));
        Assert.Equal(1L, await Sql.ScalarAsync<long>(pipeline.Postgres,
            "SELECT count(*) FROM signer.sign_results WHERE request_id = @id", ("id", request.RequestId)));
    }

    private static async Task<ClaimDecision> DecideAsync(ServiceHost worker, SignRequested request, string hash, string name)
    {
        await using var scope = worker.Services.CreateAsyncScope();
        return await ClaimOrReplay.DecideAsync(scope.ServiceProvider.GetRequiredService<SignResultStore>(), request, hash, name, CancellationToken.None);
    }

    private SignRequested Request() => new()
    {
        RequestId = Guid.NewGuid(),
        TenantId = "acme",
        Kid = Pipeline.Kid,
        Format = "raw",
        TbsDigest = SHA256.HashData(Guid.NewGuid().ToByteArray()),
        PayloadSize = 16,
        ReceivedAt = _clock.GetUtcNow(),
        Deadline = _clock.GetUtcNow().AddSeconds(30),
    };

    private EdgeSignerLog Log(SignRequested request, string hash) => new()
    {
        RequestId = request.RequestId,
        TenantId = request.TenantId,
        Timestamp = _clock.GetUtcNow(),
        Region = "eu-central-1",
        TbsHash = hash,
        KmsKeyId = Pipeline.CentralKmsKeyId,
        KmsRegion = "eu-central-1",
        SigningMode = SigningModes.CentralFallback,
        Kid = request.Kid,
        Format = request.Format,
        PayloadSize = request.PayloadSize,
        Success = true,
    };
}
