using EdgeSigner.Contracts.Signing;
using EdgeSigner.ServiceDefaults;
using MassTransit;
using Microsoft.AspNetCore.Diagnostics;

namespace EdgeSigner.Ingress.Hosting;

/// <summary>
/// A database that cannot be reached (PostgreSQL down or restarting), or a service asked over the bus that does not
/// answer, is the service's outage, not the caller's error and not a bug: 503 <c>service_unavailable</c> with Retry-After, where any other unhandled exception is a
/// 500 <c>internal_error</c>. Neither carries a stack trace.
/// </summary>
public sealed class OutageExceptionHandler(ILogger<OutageExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (exception is RequestTimeoutException or RequestFaultException)
        {
            // A service asked over the bus (the audit sink, the workers' batch store) did not answer, or failed to.
            logger.LogWarning("{Method} {Path}: the service asked did not answer ({Reason}: {Detail})", httpContext.Request.Method,
                httpContext.Request.Path, exception.GetType().Name, exception.Message);
        }
        else if (Outage.OfDatabase(exception))
        {
            logger.LogWarning("{Method} {Path}: the database is unreachable ({Reason})", httpContext.Request.Method, httpContext.Request.Path, exception.GetType().Name);
        }
        else
        {
            return false;
        }

        httpContext.Response.Headers.RetryAfter = "5";
        await Problems.Create(StatusCodes.Status503ServiceUnavailable, ErrorTypes.ServiceUnavailable,
            "A store the service needs is unreachable; try again shortly.").ExecuteAsync(httpContext);
        return true;
    }
}
