using EdgeSigner.Contracts.Flags;
using EdgeSigner.Guardrails.Flags;
using MassTransit;
using Microsoft.Extensions.Options;

namespace EdgeSigner.SignWorker.Signing;

/// <summary>
/// The flags are the ingress's data (its store): a standalone worker asks an ingress for them at start and then periodically,
/// the safety net behind <c>FlagsChanged</c>. Until an answer comes it keeps what it has (at first the seed's
/// defaults, which route everyone to central-fallback: the safe side).
/// </summary>
public sealed class FlagsFetcher(
    IRequestClient<GetFlags> client, FlagsState state, IOptions<FlagsSyncOptions> options, TimeProvider time, ILogger<FlagsFetcher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromMilliseconds(options.Value.ReloadIntervalMs);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var response = await client.GetResponse<FlagsSnapshot>(new GetFlags(), stoppingToken, RequestTimeout.After(s: 2));
                state.TryApply(response.Message);
            }
            catch (RequestTimeoutException)
            {
                logger.LogDebug("No ingress answered the flags request; keeping version {FlagsVersion}", state.Current.Version);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // An ingress that cannot read its flag store (PostgreSQL down) answers with a fault: keep what we have
                // and ask again; this loop must outlive any outage, or the worker would stop with it.
                logger.LogWarning("The flags request failed ({Reason}); keeping version {FlagsVersion}", ex.GetType().Name, state.Current.Version);
            }

            await Task.Delay(interval, time, stoppingToken);
        }
    }
}
