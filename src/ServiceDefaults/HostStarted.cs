using Microsoft.Extensions.Hosting;

namespace EdgeSigner.ServiceDefaults;

public static class HostStarted
{
    /// <summary>
    /// Completes once every hosted service has started, the bus among them: a background service that publishes
    /// at start waits for this, so its first message does not wait on a transport that is not there yet.
    /// </summary>
    public static async Task WhenStartedAsync(this IHostApplicationLifetime lifetime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lifetime);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        await using (cancellationToken.Register(() => started.TrySetCanceled(cancellationToken)))
        {
            await started.Task;
        }
    }
}
