using System.Security.Cryptography;
using EdgeSigner.Contracts.Breakers;
using EdgeSigner.Contracts.Flags;
using EdgeSigner.Contracts.Tbs;
using EdgeSigner.Guardrails.RateLimiting;
using EdgeSigner.SignWorker.CircuitBreaking;
using EdgeSigner.SignWorker.Keys;
using EdgeSigner.SignWorker.Observability;
using EdgeSigner.SignWorker.RateLimiting;
using EdgeSigner.SignWorker.Routing;
using EdgeSigner.SignWorker.Signing;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using static EdgeSigner.SignWorker.Tests.Signing.ScriptedBackend;

namespace EdgeSigner.SignWorker.Tests.Signing;

/// <summary>
/// The failure policy, on plain calls: real breakers, budget and metrics, an in-memory test bus for the breaker's
/// events, and scripted backends at the true edge. Every signature returned is checked against the public key.
/// </summary>
public sealed class FallbackSignerTests : IAsyncLifetime
{
    private static readonly byte[] Digest = SHA256.HashData("what is signed"u8);

    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ServiceProvider _services = SigningServices.Build();

    private FallbackSigner Signer => _services.GetRequiredService<FallbackSigner>();

    [Fact]
    public async Task A_working_edge_signs_on_the_edge_without_touching_central()
    {
        var (key, edge, central) = Key([Answer.Sign], []);

        var outcome = await Signer.SignAsync(Job(key), SigningPath.Edge, edge, EdgeSignerFlags.Defaults, CancellationToken.None);

        AssertSignedBy(outcome, edge);
        Assert.True(outcome.Edge);
        Assert.False(outcome.FallbackTriggered);
        Assert.Equal((1, 0), (edge.Calls, central.Calls));
    }

    [Fact]
    public async Task A_service_error_is_retried_then_central_signs_and_the_outcome_says_why()
    {
        var (key, edge, central) = Key([Answer.Unavailable, Answer.Unavailable, Answer.Unavailable], []);

        var outcome = await Signer.SignAsync(Job(key), SigningPath.Edge, edge, EdgeSignerFlags.Defaults, CancellationToken.None);

        AssertSignedBy(outcome, central);
        Assert.False(outcome.Edge);
        Assert.True(outcome.FallbackTriggered);
        Assert.Equal(2, outcome.RetryCount); // the policy's two retries, then the fallback
        Assert.Equal("kms_unavailable", outcome.ErrorType);
        Assert.Equal((3, 1), (edge.Calls, central.Calls));
    }

    [Fact]
    public async Task A_disabled_key_is_not_retried_and_falls_back_only_if_the_keys_policy_allows()
    {
        var (strict, strictEdge, strictCentral) = Key([Answer.Disabled], [], fallbackOnConfigurationError: false);
        var (lenient, lenientEdge, lenientCentral) = Key([Answer.Disabled], [], fallbackOnConfigurationError: true);

        var refused = await Signer.SignAsync(Job(strict), SigningPath.Edge, strictEdge, EdgeSignerFlags.Defaults, CancellationToken.None);
        var fellBack = await Signer.SignAsync(Job(lenient), SigningPath.Edge, lenientEdge, EdgeSignerFlags.Defaults, CancellationToken.None);

        Assert.False(refused.Success);
        Assert.Equal("kms_key_disabled", refused.ErrorType);
        Assert.Equal((1, 0), (strictEdge.Calls, strictCentral.Calls));
        AssertSignedBy(fellBack, lenientCentral);
        Assert.Equal((1, 1), (lenientEdge.Calls, lenientCentral.Calls));
    }

    [Fact]
    public async Task A_throttle_opens_the_breaker_at_once_so_the_next_request_goes_straight_to_central()
    {
        var (key, edge, central) = Key([Answer.Sign, Answer.Throttled], []);

        var signed = await Signer.SignAsync(Job(key), SigningPath.Edge, edge, EdgeSignerFlags.Defaults, CancellationToken.None);
        var throttled = await Signer.SignAsync(Job(key), SigningPath.Edge, edge, EdgeSignerFlags.Defaults, CancellationToken.None);
        var refused = await Signer.SignAsync(Job(key), SigningPath.Edge, edge, EdgeSignerFlags.Defaults, CancellationToken.None);

        AssertSignedBy(signed, edge);
        AssertSignedBy(throttled, central);
        Assert.Equal("kms_throttled", throttled.ErrorType);
        AssertSignedBy(refused, central);
        Assert.Equal("circuit_open", refused.ErrorType);
        Assert.Equal((2, 2), (edge.Calls, central.Calls));
        Assert.Equal(BreakerStates.Open, _services.GetRequiredService<KmsCircuitBreakers>().Snapshot().Single(b => b.KmsKeyId == edge.KeyId).State);
        var harness = _services.GetRequiredService<ITestHarness>();
        Assert.True(await harness.Published.Any<CircuitBreakerStateChanged>(m =>
            m.Context.Message.KmsKeyId == edge.KeyId && m.Context.Message.To == BreakerStates.Open && m.Context.Message.Reason == "throttled"));
    }

    [Fact]
    public async Task With_the_breaker_flag_off_there_is_no_breaker_at_all()
    {
        var (key, edge, central) = Key([Answer.Throttled, Answer.Throttled], []);
        var flags = EdgeSignerFlags.Defaults with { CircuitBreakerEnabled = false };

        await Signer.SignAsync(Job(key), SigningPath.Edge, edge, flags, CancellationToken.None);
        await Signer.SignAsync(Job(key), SigningPath.Edge, edge, flags, CancellationToken.None);

        Assert.Equal((2, 2), (edge.Calls, central.Calls)); // both tried the edge first
        Assert.DoesNotContain(_services.GetRequiredService<KmsCircuitBreakers>().Snapshot(), b => b.KmsKeyId == edge.KeyId);
    }

    [Fact]
    public async Task No_call_starts_when_the_deadline_leaves_no_time_for_one()
    {
        var (key, edge, central) = Key([], []);

        var outcome = await Signer.SignAsync(Job(key, deadline: DateTimeOffset.UtcNow.AddMilliseconds(5)), SigningPath.Edge, edge,
            EdgeSignerFlags.Defaults, CancellationToken.None);

        Assert.False(outcome.Success);
        Assert.Contains("deadline_exceeded", outcome.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal((0, 0), (edge.Calls, central.Calls));
    }

    [Fact]
    public async Task The_central_path_never_calls_the_edge()
    {
        var (key, edge, central) = Key([], []);

        var outcome = await Signer.SignAsync(Job(key), SigningPath.Central, edge, EdgeSignerFlags.Defaults, CancellationToken.None);

        AssertSignedBy(outcome, central);
        Assert.False(outcome.FallbackTriggered);
        Assert.Equal((0, 1), (edge.Calls, central.Calls));
    }

    public Task InitializeAsync() => _services.GetRequiredService<ITestHarness>().Start();

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        _key.Dispose();
    }

    private static SignJob Job(SigningKey key, DateTimeOffset? deadline = null) =>
        new(key, Digest, deadline ?? DateTimeOffset.UtcNow.AddSeconds(10), LowPriority: false);

    private (SigningKey Key, ScriptedBackend Edge, ScriptedBackend Central) Key(Answer[] edgeScript, Answer[] centralScript, bool fallbackOnConfigurationError = false)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var edge = new ScriptedBackend($"edge-{id}", "eu-central-1", _key, edgeScript);
        var central = new ScriptedBackend($"central-{id}", "us-east-1", _key, centralScript);
        return (new SigningKey($"kid-{id}", edge, [], central, _key.ExportSubjectPublicKeyInfo(), fallbackOnConfigurationError), edge, central);
    }

    private void AssertSignedBy(SignOutcome outcome, ScriptedBackend backend)
    {
        Assert.True(outcome.Success, outcome.ErrorMessage);
        Assert.Same(backend, outcome.Backend);
        Assert.True(_key.VerifyHash(Digest, outcome.SignatureRs!, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        Assert.Equal(64, outcome.SignatureRs!.Length);
        Assert.NotEmpty(EcdsaSignature.RsToDer(outcome.SignatureRs));
    }
}
