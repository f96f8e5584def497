using EdgeSigner.Contracts.Signing;
using MassTransit;

namespace EdgeSigner.Client;

/// <summary>Where a tenant's service receives its batches' results.</summary>
public static class BatchResults
{
    /// <summary>
    /// Starts receiving from the user's durable results queue (<see cref="TenantBusNames.ResultsQueue"/>, or
    /// <paramref name="queue"/>, one of the user's own names), where EdgeSigner sends each <see cref="BatchItemEnded"/>
    /// and then <see cref="BatchCompleted"/>; add their handlers or consumers in <paramref name="configure"/>. Results
    /// that arrived while the service was down are waiting there. It binds no message exchanges (results are sent to
    /// the queue, not published), so the user needs no permission beyond its prefix.
    /// </summary>
    public static async Task<HostReceiveEndpointHandle> ConnectBatchResultsAsync(this IBus bus, string brokerUser,
        Action<IReceiveEndpointConfigurator> configure, string? queue = null)
    {
        ArgumentNullException.ThrowIfNull(bus);
        ArgumentNullException.ThrowIfNull(configure);
        var handle = bus.ConnectReceiveEndpoint(queue ?? TenantBusNames.ResultsQueue(brokerUser), endpoint =>
        {
            endpoint.ConfigureConsumeTopology = false;
            configure(endpoint);
        });
        await handle.Ready;
        return handle;
    }
}
