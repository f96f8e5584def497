using System.Security.Cryptography;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Contracts.Tbs;
using EdgeSigner.SignWorker.Keys;
using EdgeSigner.SignWorker.Signing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static EdgeSigner.SignWorker.Tests.Signing.ScriptedBackend;

namespace EdgeSigner.SignWorker.Tests.Signing;

/// <summary>The pure steps of a signature: the request check, the log, the answer; and SyncFirst's turns.</summary>
public sealed class SignStepsTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);
    private readonly ECDsa _ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly SigningKey _key;

    public SignStepsTests()
    {
        var edge = new ScriptedBackend("edge-key", "eu-central-1", _ecdsa);
        _key = new SigningKey("es256-test", edge, [], new ScriptedBackend("central-key", "us-east-1", _ecdsa), _ecdsa.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public void The_check_refuses_a_digest_that_is_not_32_bytes_and_an_unknown_kid_and_names_the_key_otherwise()
    {
        var shortDigest = RequestCheck.Check(Request(new byte[31]), Find);
        var unknown = RequestCheck.Check(Request(SHA256.HashData("x"u8)) with { Kid = "no-such-kid" }, Find);
        var digest = SHA256.HashData("payload"u8);
        var good = RequestCheck.Check(Request(digest), Find);

        Assert.Equal((false, ErrorTypes.InvalidRequest, ""), (shortDigest.CanSign, shortDigest.ErrorType, shortDigest.TbsHash));
        Assert.Equal((false, ErrorTypes.UnknownKey), (unknown.CanSign, unknown.ErrorType));
        Assert.Contains("no-such-kid", unknown.Message, StringComparison.Ordinal);
        Assert.True(good.CanSign);
        Assert.Same(_key, good.Key);
        Assert.Equal(Convert.ToHexStringLower(digest), good.TbsHash);
    }

    [Fact]
    public async Task The_log_carries_the_seed_fields_from_begin_to_end_and_the_answer_carries_a_signature_that_verifies()
    {
        var digest = SHA256.HashData("payload"u8);
        var request = Request(digest);
        var begun = SignLogs.Begin(request, Convert.ToHexStringLower(digest), _key.Edge, SigningModes.Edge, Environment.CpuUsage.TotalTime, Now);
        var der = await _key.Edge.SignDigestAsync(digest, CancellationToken.None);
        var outcome = new SignOutcome(EcdsaSignature.DerToRs(der), _key.Central, Edge: false, RetryCount: 2, FallbackTriggered: true, KmsMs: 12.5,
            "kms_unavailable", "edge eu-central-1: kms_unavailable");
        var ended = SignLogs.End(begun, request, outcome, Environment.CpuUsage.TotalTime, Now.AddMilliseconds(40));

        Assert.Equal((request.RequestId, "acme", "eu-central-1", 250.0), (begun.RequestId, begun.TenantId, begun.KmsRegion, begun.TTotalMs));
        Assert.Equal((SigningModes.CentralFallback, "us-east-1", "central-key", true, 2, true), (ended.SigningMode, ended.KmsRegion, ended.KmsKeyId,
            ended.Success, ended.RetryCount, ended.FallbackTriggered));
        Assert.Equal((290.0, 12.5, "eu-west-1"), (ended.TTotalMs, ended.TKmsMs, ended.Region)); // the caller's region stays the log's region

        var answer = Answers.Completed(request, _key.Kid, outcome, ended);
        Assert.Equal((_key.Kid, SigningModes.CentralFallback, "us-east-1"), (answer.Kid, answer.SigningMode, answer.Region));
        Assert.True(_key.Verify(digest, answer.Signature));
        Assert.True(_ecdsa.VerifyHash(digest, answer.SignatureDer, DSASignatureFormat.Rfc3279DerSequence));

        var failed = SignLogs.Failed(begun, request, ErrorTypes.SigningTimeout, "too late", Now.AddSeconds(1));
        var rejected = Answers.Rejected(request, failed);
        Assert.Equal((false, ErrorTypes.SigningTimeout, "too late", 1250.0), (failed.Success, rejected.ErrorType, rejected.Message, failed.TTotalMs));
    }

    [Fact]
    public async Task A_batch_item_waits_for_the_synchronous_request_in_flight()
    {
        var clock = new FakeTimeProvider(Now);
        var syncFirst = new SyncFirst(Options.Create(new SignWorkerOptions { BatchYieldMs = 10_000 }), clock);
        var turn = syncFirst.Enter();

        var waiting = syncFirst.YieldAsync(CancellationToken.None);
        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.False(waiting.IsCompleted);

        turn.Dispose();
        // Its next poll sees no synchronous request: far sooner than the 10 s it may wait at most.
        for (var i = 0; i < 1000 && !waiting.IsCompleted; i++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(2));
            await Task.Delay(1);
        }

        Assert.True(waiting.IsCompletedSuccessfully);
        Assert.True(clock.GetUtcNow() - Now < TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task A_batch_item_never_waits_longer_than_the_yield()
    {
        var clock = new FakeTimeProvider(Now);
        var syncFirst = new SyncFirst(Options.Create(new SignWorkerOptions { BatchYieldMs = 250 }), clock);
        using var stuck = syncFirst.Enter();

        var capped = syncFirst.YieldAsync(CancellationToken.None);
        Assert.False(capped.IsCompleted);
        clock.Advance(TimeSpan.FromMilliseconds(300));

        await capped.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, syncFirst.InFlight); // the synchronous request is still in flight: the batch item went on anyway
    }

    public void Dispose()
    {
        _key.Dispose();
        _ecdsa.Dispose();
    }

    private SigningKey? Find(string kid) => kid == _key.Kid ? _key : null;

    private static SignRequested Request(byte[] digest) => new()
    {
        RequestId = Guid.NewGuid(),
        TenantId = "acme",
        Kid = "es256-test",
        Format = "raw",
        TbsDigest = digest,
        PayloadSize = 7,
        Region = "eu-west-1",
        ReceivedAt = Now.AddMilliseconds(-250),
        Deadline = Now.AddSeconds(5),
    };
}
