using System.Collections.Concurrent;
using System.Security.Cryptography;
using EdgeSigner.Contracts.Keys;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EdgeSigner.Ingress.Signing;

/// <summary>
/// The signing keys as the workers announce them (<see cref="SigningKeysAnnounced"/>): the one source of
/// <c>/v1/keys</c> and of the kid new requests are built for. The ingress holds no key of its own, so what it
/// publishes is what the workers sign with. Every key ever announced is kept in <c>ingress.published_keys</c>
/// (<see cref="PublishedKeyRow"/>) and stays published; the kid to sign with is the one the newest live worker
/// announces (workers count as live for <see cref="KeyAnnouncements.LiveFor"/>), else the last one stored. A kid
/// that two workers, or a worker and the store, give different public keys fails <c>/readyz</c>, naming the kid.
/// </summary>
public sealed class PublishedKeys(TimeProvider time) : IHealthCheck
{
    public sealed record Key(string Kid, byte[] PublicKey, string Fingerprint, Jwk Jwk);

    public sealed record Jwk(string Kty, string Crv, string X, string Y, string Kid, string Alg, string Use);

    /// <summary>The published keys by kid, the active kid, and any kid that names two public keys.</summary>
    public sealed record View(IReadOnlyList<Key> Keys, string? ActiveKid, IReadOnlyList<string> Conflicts, int LiveWorkers);

    /// <summary>How often the active kid's row is refreshed in the store (not at every announcement).</summary>
    public static readonly TimeSpan ActiveRefresh = TimeSpan.FromMinutes(1);

    /// <summary>How long a batch waits for the first key, should the ingress and its first worker be starting together.</summary>
    public static readonly TimeSpan FirstAnnouncementWait = TimeSpan.FromSeconds(5);

    /// <summary>A worker as this ingress knows it: when it was first heard (which decides, between two workers that
    /// disagree, whose key stays published: the one heard first) and its latest announcement.</summary>
    private sealed record Worker(DateTimeOffset FirstHeard, SigningKeysAnnounced Latest);

    private readonly ConcurrentDictionary<string, Worker> _workers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PublishedKeyRow> _stored = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Kid, string Fingerprint), Key> _decoded = new();
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The view as last computed, for the state it was computed from (<see cref="_changes"/>), until a live worker would go stale.</summary>
    private sealed record Cached(View View, long Changes, DateTimeOffset ValidUntil);

    private Cached? _cached;
    private long _changes;

    /// <summary>The answer when no key is known yet: nothing can be built for signing.</summary>
    public static ProblemHttpResult NoKeys() => Hosting.Problems.Create(StatusCodes.Status503ServiceUnavailable,
        Contracts.Signing.ErrorTypes.ServiceUnavailable, "No signing worker has announced its keys yet; try again shortly.");

    /// <summary>The rows of the store, as they are now (at start, and after each write).</summary>
    public void Stored(IEnumerable<PublishedKeyRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        foreach (var row in rows)
        {
            _stored[row.Kid] = row;
            Interlocked.Increment(ref _changes);
            _first.TrySetResult();
        }
    }

    /// <summary>
    /// Takes a worker's announcement; returns the rows the store should get: kids it does not hold yet, and the
    /// active kid once its last activity there is <see cref="ActiveRefresh"/> old. (<see cref="Stored"/> takes them
    /// into this view once written, so a failed write is tried again at the next announcement.)
    /// </summary>
    public IReadOnlyList<PublishedKeyRow> Apply(SigningKeysAnnounced announcement)
    {
        ArgumentNullException.ThrowIfNull(announcement);
        _workers.AddOrUpdate(announcement.WorkerInstance, new Worker(time.GetUtcNow(), announcement),
            (_, current) => announcement.AnnouncedAt >= current.Latest.AnnouncedAt ? current with { Latest = announcement } : current);
        Interlocked.Increment(ref _changes);
        _first.TrySetResult();
        var writes = new List<PublishedKeyRow>();
        foreach (var key in announcement.Keys)
        {
            var active = key.Kid == announcement.ActiveKid ? announcement.AnnouncedAt : (DateTimeOffset?)null;
            if (!_stored.TryGetValue(key.Kid, out var row))
            {
                writes.Add(new PublishedKeyRow
                {
                    Kid = key.Kid, PublicKey = key.PublicKey, Fingerprint = key.Fingerprint, FirstAnnouncedAt = announcement.AnnouncedAt, LastActiveAt = active,
                });
            }
            else if (row.PublicKey.AsSpan().SequenceEqual(key.PublicKey) && active is { } at && (row.LastActiveAt is null || at - row.LastActiveAt >= ActiveRefresh))
            {
                writes.Add(new PublishedKeyRow
                {
                    Kid = row.Kid, PublicKey = row.PublicKey, Fingerprint = row.Fingerprint, FirstAnnouncedAt = row.FirstAnnouncedAt, LastActiveAt = at,
                });
            }
        }

        return writes;
    }

    /// <summary>
    /// The published keys now. Every sign request asks, so the view is computed again only when an announcement or
    /// a stored row changed it, or when a live worker's announcement grows stale.
    /// </summary>
    public View Current()
    {
        var now = time.GetUtcNow();
        var changes = Interlocked.Read(ref _changes);
        if (Volatile.Read(ref _cached) is { } cached && cached.Changes == changes && now < cached.ValidUntil)
        {
            return cached.View;
        }

        var (view, validUntil) = Compute(now);
        Volatile.Write(ref _cached, new Cached(view, changes, validUntil));
        return view;
    }

    private (View View, DateTimeOffset ValidUntil) Compute(DateTimeOffset now)
    {
        var live = _workers.Values.Where(w => now - w.Latest.AnnouncedAt < KeyAnnouncements.LiveFor)
            .OrderBy(w => w.FirstHeard).ThenBy(w => w.Latest.WorkerInstance, StringComparer.Ordinal).Select(w => w.Latest).ToList();
        var keys = _stored.Values.ToDictionary(r => r.Kid, r => Decode(r.Kid, r.PublicKey, r.Fingerprint), StringComparer.Ordinal);
        var conflicts = new List<string>();
        foreach (var worker in live)
        {
            foreach (var announced in worker.Keys)
            {
                if (!keys.TryGetValue(announced.Kid, out var known))
                {
                    keys[announced.Kid] = Decode(announced.Kid, announced.PublicKey, announced.Fingerprint);
                }
                else if (!known.PublicKey.AsSpan().SequenceEqual(announced.PublicKey))
                {
                    conflicts.Add($"kid '{announced.Kid}' names two public keys: {known.Fingerprint} and {announced.Fingerprint} (worker {worker.WorkerInstance})");
                }
            }
        }

        var activeKid = live.Count > 0
            ? live.MaxBy(w => w.AnnouncedAt)!.ActiveKid
            : _stored.Values.Where(r => r.LastActiveAt is not null).OrderByDescending(r => r.LastActiveAt).FirstOrDefault()?.Kid;
        var validUntil = live.Count > 0 ? live.Min(w => w.AnnouncedAt) + KeyAnnouncements.LiveFor : DateTimeOffset.MaxValue;
        return (new View(keys.Values.OrderBy(k => k.Kid, StringComparer.Ordinal).ToList(), activeKid, conflicts.Distinct().ToList(), live.Count),
            validUntil);
    }

    /// <summary>The kid to build a new request for; waits (at most <paramref name="wait"/>) for the first key to be known.</summary>
    public async Task<string?> ActiveKidAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        if (!_first.Task.IsCompleted && wait > TimeSpan.Zero)
        {
            try
            {
                await _first.Task.WaitAsync(wait, time, cancellationToken);
            }
            catch (TimeoutException)
            {
                return null;
            }
        }

        return Current().ActiveKid;
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var view = Current();
        return Task.FromResult(view switch
        {
            { Conflicts.Count: > 0 } => HealthCheckResult.Unhealthy("The workers' keys disagree: " + string.Join("; ", view.Conflicts)),
            { Keys.Count: 0 } => HealthCheckResult.Degraded("No signing worker has announced its keys yet."),
            { LiveWorkers: 0 } => HealthCheckResult.Degraded($"No worker announced its keys in the last {KeyAnnouncements.LiveFor.TotalSeconds} s; requests wait in the queue (active kid {view.ActiveKid})."),
            _ => HealthCheckResult.Healthy($"{view.Keys.Count} key(s); {view.LiveWorkers} live worker(s); active kid {view.ActiveKid}"),
        });
    }

    private Key Decode(string kid, byte[] publicKey, string fingerprint) => _decoded.GetOrAdd((kid, fingerprint), cacheKey =>
    {
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(publicKey, out var _);
        var q = key.ExportParameters(includePrivateParameters: false).Q;
        var jwk = new Jwk("EC", "P-256", System.Buffers.Text.Base64Url.EncodeToString(q.X), System.Buffers.Text.Base64Url.EncodeToString(q.Y),
            kid, "ES256", "sig");
        return new Key(kid, publicKey, fingerprint, jwk);
    });
}
