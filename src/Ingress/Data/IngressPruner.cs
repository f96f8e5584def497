using EdgeSigner.Ingress.Batches;
using EdgeSigner.Ingress.Signing;
using EdgeSigner.ServiceDefaults;

namespace EdgeSigner.Ingress.Data;

/// <summary>
/// Once an hour, removes what outlived its lifetime: Idempotency-Keys after 24 hours, batches and their results after
/// seven days. Any ingress may run it; the deletes are idempotent.
/// </summary>
public sealed class IngressPruner(IServiceScopeFactory scopes, TimeProvider time, ILogger<IngressPruner> logger) : PeriodicJob(scopes, time, logger)
{
    protected override string What => "Pruning";
    protected override TimeSpan Interval { get; } = TimeSpan.FromHours(1);

    protected override async Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow();
        var keys = await services.GetRequiredService<IdempotencyKeys>().PruneAsync(now, cancellationToken);
        var batches = await services.GetRequiredService<BatchStore>().PruneAsync(now, cancellationToken);
        logger.LogDebug("Pruned {Keys} idempotency keys and {Batches} batches past their lifetime", keys, batches);
    }
}
