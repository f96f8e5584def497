using System.Security.Cryptography;
using EdgeSigner.Contracts.Keys;
using EdgeSigner.Ingress.Signing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;

namespace EdgeSigner.Ingress.Tests;

/// <summary>The ingress's view of the workers' keys, as plain calls with a pinned clock.</summary>
public sealed class PublishedKeysTests
{
    private static readonly DateTimeOffset Start = new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider _clock = new(Start);

    [Fact]
    public async Task A_kid_that_two_live_workers_give_different_keys_fails_readiness_naming_the_kid()
    {
        var keys = new PublishedKeys(_clock);
        var (a, b) = (Spki(), Spki());
        keys.Apply(Announcement("w1", ("k1", a)));
        Assert.Equal(HealthStatus.Healthy, (await keys.CheckHealthAsync(null!)).Status);

        keys.Apply(Announcement("w2", ("k1", b)));

        var health = await keys.CheckHealthAsync(null!);
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Contains("kid 'k1' names two public keys", health.Description, StringComparison.Ordinal);
        Assert.Equal(a, Assert.Single(keys.Current().Keys).PublicKey); // the first one stays published
    }

    [Fact]
    public void New_kids_are_written_once_and_the_active_kid_is_refreshed_a_minute_apart()
    {
        var keys = new PublishedKeys(_clock);
        var spki = Spki();

        var first = keys.Apply(Announcement("w1", ("k1", spki)));
        Assert.Equal("k1", Assert.Single(first).Kid);
        keys.Stored(first);
        _clock.Advance(TimeSpan.FromSeconds(5));
        Assert.Empty(keys.Apply(Announcement("w1", ("k1", spki))));
        _clock.Advance(PublishedKeys.ActiveRefresh);
        Assert.Equal(_clock.GetUtcNow(), Assert.Single(keys.Apply(Announcement("w1", ("k1", spki)))).LastActiveAt);
    }

    [Fact]
    public async Task With_no_live_worker_the_stored_keys_stay_published_and_name_the_kid_to_sign_with()
    {
        var keys = new PublishedKeys(_clock);
        Assert.Null(await keys.ActiveKidAsync(TimeSpan.Zero, CancellationToken.None));
        keys.Stored(
        [
            new PublishedKeyRow { Kid = "old", PublicKey = Spki(), Fingerprint = "f-old", FirstAnnouncedAt = Start.AddDays(-9), LastActiveAt = Start.AddDays(-9) },
            new PublishedKeyRow { Kid = "new", PublicKey = Spki(), Fingerprint = "f-new", FirstAnnouncedAt = Start.AddDays(-2), LastActiveAt = Start.AddDays(-1) },
        ]);

        Assert.Equal("new", await keys.ActiveKidAsync(TimeSpan.Zero, CancellationToken.None));
        Assert.Equal(["new", "old"], keys.Current().Keys.Select(k => k.Kid));
        Assert.Equal(HealthStatus.Degraded, (await keys.CheckHealthAsync(null!)).Status);

        // A live worker that gives a stored kid another key is a conflict too.
        keys.Apply(Announcement("w1", ("old", Spki())));
        Assert.Equal(HealthStatus.Unhealthy, (await keys.CheckHealthAsync(null!)).Status);
    }

    [Fact]
    public void A_worker_that_stopped_announcing_no_longer_decides_the_active_kid()
    {
        var keys = new PublishedKeys(_clock);
        keys.Apply(Announcement("w1", ("k1", Spki())));
        _clock.Advance(KeyAnnouncements.LiveFor + TimeSpan.FromSeconds(1));
        keys.Apply(Announcement("w2", ("k2", Spki())));

        var view = keys.Current();
        Assert.Equal(("k2", 1), (view.ActiveKid, view.LiveWorkers));
    }

    private SigningKeysAnnounced Announcement(string worker, params (string Kid, byte[] Spki)[] keys) => new()
    {
        WorkerInstance = worker,
        AnnouncedAt = _clock.GetUtcNow(),
        ActiveKid = keys[0].Kid,
        Keys = keys.Select(k => new AnnouncedKey { Kid = k.Kid, PublicKey = k.Spki, Fingerprint = Convert.ToHexStringLower(SHA256.HashData(k.Spki)) }).ToList(),
    };

    private static byte[] Spki()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return key.ExportSubjectPublicKeyInfo();
    }
}
