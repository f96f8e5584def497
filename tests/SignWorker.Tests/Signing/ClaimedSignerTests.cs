using System.Collections.Concurrent;
using System.Security.Cryptography;
using EdgeSigner.Contracts.Events;
using EdgeSigner.Contracts.Flags;
using EdgeSigner.Contracts.Signing;
using EdgeSigner.Guardrails.Flags;
using EdgeSigner.SignWorker.Keys;
using EdgeSigner.SignWorker.Signing;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeSigner.SignWorker.Tests.Signing;

/// <summary>
/// The signing step and the events step on MassTransit's test harness: a probe consumer runs
/// <see cref="ClaimedSigner"/> then <see cref="OutcomeEvents"/> for each request it receives, as the pipeline does.
/// The path follows the flags; the attempt is published before the outcome; the outcome's signature verifies.
/// </summary>
public sealed class ClaimedSignerTests : IAsyncLifetime
{
    private readonly ECDsa _ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly Probe.Key _key;
    private readonly ServiceProvider _services;

    public ClaimedSignerTests()
    {
        var edge = new ScriptedBackend("edge-key", "eu-central-1", _ecdsa);
        var central = new ScriptedBackend("central-key", "us-east-1", _ecdsa);
        _key = new Probe.Key(new SigningKey("es256-test", edge, [], central, _ecdsa.ExportSubjectPublicKeyInfo()));
        _services = SigningServices.Build(services => services.AddSingleton(_key), bus => bus.AddConsumer<Probe>());
    }

    private ITestHarness Harness => _services.GetRequiredService<ITestHarness>();

    public Task InitializeAsync() => Harness.Start();

    [Fact]
    public async Task With_the_edge_off_the_request_is_signed_centrally_and_its_attempt_and_outcome_are_published()
    {
        var request = await SendAsync();

        var signed = _key.Results[request.RequestId];
        Assert.Equal((SigningModes.CentralFallback, "central-key", "us-east-1"), (signed.Log.SigningMode, signed.Log.KmsKeyId, signed.Log.KmsRegion));
        Assert.True(_key.Signing.Verify(request.TbsDigest, signed.Outcome.SignatureRs!));
        Assert.True(await Harness.Published.Any<SignAttempted>(m => m.Context.Message.Log.RequestId == request.RequestId));
        var outcome = Harness.Published.Select<SignSucceeded>(m => m.Context.Message.Log.RequestId == request.RequestId).Single().Context.Message;
        Assert.Equal(EventIds.Outcome(request.RequestId), outcome.EventId);
        Assert.True(outcome.Log.Success);
        var analytics = Harness.Published.Select<AnalyticsEvent>(m => m.Context.Message.Properties.RequestId == request.RequestId)
            .Select(m => ((AnalyticsEvent)m.MessageObject).Event).Order(StringComparer.Ordinal).ToList();
        Assert.Equal([AnalyticsEvent.Attempt, AnalyticsEvent.Success], analytics);
    }

    [Fact]
    public async Task With_the_edge_on_for_the_tenant_it_signs_on_the_edge_and_an_emergency_shutdown_sends_it_to_central_again()
    {
        var flags = _services.GetRequiredService<FlagsState>();
        var edgeForAcme = EdgeSignerFlags.Defaults with { EdgeSignerEnabled = true, TenantAllowlist = ["acme"] };
        Assert.True(flags.TryApply(new FlagsSnapshot { Version = 1, Global = edgeForAcme }));
        var onEdge = await SendAsync();
        Assert.True(flags.TryApply(new FlagsSnapshot { Version = 2, Global = edgeForAcme, EmergencyShutdown = true }));
        var shutDown = await SendAsync();

        Assert.Equal((SigningModes.Edge, "edge-key"), (_key.Results[onEdge.RequestId].Log.SigningMode, _key.Results[onEdge.RequestId].Log.KmsKeyId));
        Assert.Equal((SigningModes.CentralFallback, "central-key"), (_key.Results[shutDown.RequestId].Log.SigningMode, _key.Results[shutDown.RequestId].Log.KmsKeyId));
        Assert.All(new[] { onEdge, shutDown }, r => Assert.True(_key.Signing.Verify(r.TbsDigest, _key.Results[r.RequestId].Outcome.SignatureRs!)));
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        _key.Signing.Dispose();
        _ecdsa.Dispose();
    }

    private async Task<SignRequested> SendAsync()
    {
        var request = new SignRequested
        {
            RequestId = Guid.NewGuid(),
            TenantId = "acme",
            Kid = "es256-test",
            Format = "raw",
            TbsDigest = SHA256.HashData(Guid.NewGuid().ToByteArray()),
            PayloadSize = 16,
            ReceivedAt = DateTimeOffset.UtcNow,
            Deadline = DateTimeOffset.UtcNow.AddSeconds(10),
        };
        await Harness.Bus.Publish(request);
        Assert.True(await Harness.GetConsumerHarness<Probe>().Consumed.Any<SignRequested>(m => m.Context.Message.RequestId == request.RequestId));
        Assert.True(await Harness.Published.Any<SignSucceeded>(m => m.Context.Message.Log.RequestId == request.RequestId));
        return request;
    }

    /// <summary>Runs the two steps for each request, as the pipeline does, and keeps what the signing step returned.</summary>
    public sealed class Probe(ClaimedSigner signer, OutcomeEvents events, Probe.Key key) : IConsumer<SignRequested>
    {
        public async Task Consume(ConsumeContext<SignRequested> context)
        {
            var signed = await signer.SignAsync(context, key.Signing, Convert.ToHexStringLower(context.Message.TbsDigest), batchItem: false,
                Environment.CpuUsage.TotalTime);
            key.Results[context.Message.RequestId] = signed;
            await events.EndedAsync(context, signed.Log, signed.Outcome.SignatureRs, recorded: false);
        }

        public sealed record Key(SigningKey Signing)
        {
            public ConcurrentDictionary<Guid, SignedRequest> Results { get; } = new();
        }
    }
}
