using EdgeSigner.Contracts.Keys;
using MassTransit;

namespace EdgeSigner.Ingress.Signing;

/// <summary>Once the ingress has started, asks every worker to announce its keys, so it need not wait for the next tick.</summary>
public sealed class SigningKeysRequest(IBus bus, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<SigningKeysRequest> logger) : IHostedService
{
    private CancellationTokenRegistration _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = lifetime.ApplicationStarted.Register(() => _ = AskAsync());
        return Task.CompletedTask;
    }

    private async Task AskAsync()
    {
        try
        {
            await bus.Publish(new AnnounceSigningKeys { RequestedAt = time.GetUtcNow() }, lifetime.ApplicationStopping);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogWarning("Could not ask the workers for their keys ({Reason}); their periodic announcements will come", ex.GetType().Name);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => _registration.DisposeAsync().AsTask();
}
