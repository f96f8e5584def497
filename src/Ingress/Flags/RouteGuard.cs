using EdgeSigner.Contracts.Signing;
using EdgeSigner.Ingress.Hosting;
using EdgeSigner.Guardrails.Flags;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EdgeSigner.Ingress.Flags;

/// <summary>
/// Break-glass level 3: while the route is removed, signing calls answer 503 <c>service_unavailable</c> (requests
/// already past this filter finish normally) and <c>/readyz</c> fails so load balancers take the instance out.
/// </summary>
public sealed class RouteGuard(FlagsState state) : IEndpointFilter, IHealthCheck
{
    public const string RemovedMessage = "The signing route is removed (break-glass level 3).";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (state.Current.RouteRemoved)
        {
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, ErrorTypes.ServiceUnavailable, RemovedMessage);
        }

        return await next(context);
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.Current.RouteRemoved
            ? HealthCheckResult.Unhealthy(RemovedMessage)
            : HealthCheckResult.Healthy());
}
