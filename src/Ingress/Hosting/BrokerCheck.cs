using EdgeSigner.Contracts.Signing;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;

namespace EdgeSigner.Ingress.Hosting;

/// <summary>
/// Fails fast while the message broker is unreachable: a synchronous call answers 503 at once instead of waiting for
/// its timeout, and a batch is refused before anything of it is recorded or sent.
/// </summary>
public static class BrokerCheck
{
    public static ProblemHttpResult? Unavailable(IBusControl bus)
    {
        ArgumentNullException.ThrowIfNull(bus);
        return bus.CheckHealth().Status == BusHealthStatus.Unhealthy
            ? Problems.Create(StatusCodes.Status503ServiceUnavailable, ErrorTypes.ServiceUnavailable, "The message broker is unreachable; try again shortly.")
            : null;
    }
}
