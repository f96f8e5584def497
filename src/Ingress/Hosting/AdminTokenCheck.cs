using EdgeSigner.Ingress.Admin;
using Microsoft.Extensions.Options;

namespace EdgeSigner.Ingress.Hosting;

/// <summary>Says at start, once, when distributed mode has no admin token and so refuses every admin call.</summary>
public sealed class AdminTokenCheck(IOptions<AdminOptions> admin, ILogger<AdminTokenCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(admin.Value.Token))
        {
            logger.LogWarning("EdgeSigner:Admin:Token is not set: the admin API refuses every call until it is.");
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
