using EdgeSigner.Contracts.Keys;
using EdgeSigner.ServiceDefaults;
using EdgeSigner.SignWorker.CircuitBreaking;
using MassTransit;

namespace EdgeSigner.SignWorker.Keys;

/// <summary>
/// Publishes this worker's public keys (<see cref="SigningKeysAnnounced"/>) once the host has started, every
/// <see cref="KeyAnnouncements.Interval"/>, and whenever an ingress asks: the ingress's <c>/v1/keys</c> is built
/// from these, never from a key of its own.
/// </summary>
public sealed class SigningKeysAnnouncer(
    SigningKeyRegistry registry, KmsCircuitBreakers breakers, IBus bus, IHostApplicationLifetime lifetime, TimeProvider time,
    ILogger<SigningKeysAnnouncer> logger) : BackgroundService
{
    public SigningKeysAnnounced Announcement() => new()
    {
        WorkerInstance = breakers.Instance,
        AnnouncedAt = time.GetUtcNow(),
        ActiveKid = registry.ActiveKid,
        Keys = registry.Keys.Select(k => new AnnouncedKey { Kid = k.Kid, PublicKey = k.PublicKeyInfo, Fingerprint = k.Fingerprint }).ToList(),
    };

    public Task AnnounceAsync(CancellationToken cancellationToken) => bus.Publish(Announcement(), cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await lifetime.WhenStartedAsync(stoppingToken);

        using var timer = new PeriodicTimer(KeyAnnouncements.Interval, time);
        do
        {
            try
            {
                await AnnounceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning("Signing keys not announced ({Reason}); the next try is in {Seconds} s", ex.GetType().Name, KeyAnnouncements.Interval.TotalSeconds);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
