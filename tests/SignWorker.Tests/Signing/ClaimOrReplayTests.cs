using System.Security.Cryptography;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.SignWorker.Data;
using EdgeSigner.SignWorker.Results;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

namespace EdgeSigner.SignWorker.Tests.Signing;

/// <summary>
/// One result per request id, on the embedded store (a real SQLite file): the first worker claims, a second one
/// finds the claim held, a completed result is replayed, and a claim left by a worker that died is taken over.
/// </summary>
public sealed class ClaimOrReplayTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "edgesigner-claims-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.Zero));
    private SignerDbContext _db = null!;

    public async Task InitializeAsync()
    {
        _db = new SignerDbContext((DbContextOptions<SignerDbContext>)SignerDbContext.Configure(new DbContextOptionsBuilder<SignerDbContext>(), null, _root).Options);
        await _db.Database.EnsureCreatedAsync();
    }

    [Fact]
    public async Task The_first_worker_claims_a_second_finds_it_held_and_a_completed_result_is_replayed()
    {
        var store = new EmbeddedSignResultStore(_db, _clock);
        var request = Request();
        var hash = Convert.ToHexStringLower(request.TbsDigest);

        var first = await ClaimOrReplay.DecideAsync(store, request, hash, "worker-a", CancellationToken.None);
        var second = await ClaimOrReplay.DecideAsync(store, request, hash, "worker-b", CancellationToken.None);
        var signature = RandomNumberGenerator.GetBytes(64);
        await store.CompleteAsync(new SignResultStore.Outcome(Log(request, hash), signature), CancellationToken.None);
        var third = await ClaimOrReplay.DecideAsync(store, request, hash, "worker-b", CancellationToken.None);

        Assert.Equal(ClaimKind.Claimed, first.Kind);
        Assert.Equal(ClaimKind.HeldElsewhere, second.Kind);
        Assert.Equal(ClaimKind.Replay, third.Kind);
        Assert.Equal(signature, third.Recorded!.Signature);
        Assert.Equal(request.RequestId, third.Recorded.RequestId);
    }

    [Fact]
    public async Task A_claim_left_by_a_worker_that_died_is_taken_over_once_it_expires()
    {
        var store = new EmbeddedSignResultStore(_db, _clock);
        var request = Request();
        var hash = Convert.ToHexStringLower(request.TbsDigest);
        Assert.Equal(ClaimKind.Claimed, (await ClaimOrReplay.DecideAsync(store, request, hash, "worker-that-dies", CancellationToken.None)).Kind);

        _clock.Advance(SignResultStore.ClaimFor - TimeSpan.FromSeconds(1));
        Assert.Equal(ClaimKind.HeldElsewhere, (await ClaimOrReplay.DecideAsync(store, request, hash, "worker-b", CancellationToken.None)).Kind);
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(ClaimKind.Claimed, (await ClaimOrReplay.DecideAsync(store, request, hash, "worker-b", CancellationToken.None)).Kind);

        _db.ChangeTracker.Clear();
        Assert.Equal("worker-b", (await _db.Results.AsNoTracking().SingleAsync(r => r.RequestId == request.RequestId)).ClaimedBy);
    }

    public async Task DisposeAsync()
    {
        await _db.Database.EnsureDeletedAsync();
        await _db.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private SignRequested Request() => new()
    {
        RequestId = Guid.NewGuid(),
        TenantId = "acme",
        Kid = "es256-test",
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
        Region = "local",
        TbsHash = hash,
        KmsKeyId = "local-key",
        KmsRegion = "local",
        SigningMode = SigningModes.Edge,
        Kid = request.Kid,
        Format = request.Format,
        PayloadSize = request.PayloadSize,
        Success = true,
    };
}
