using EdgeSigner.Contracts.Signing;
using EdgeSigner.ServiceDefaults;
using Microsoft.AspNetCore.Diagnostics;

namespace EdgeSigner.Ingress.Hosting;

/// <summary>
/// A database that cannot be reached (PostgreSQL down or restarting) is the service's outage, not the caller's
/// error and not a bug: 503 <c>service_unavailable</c> with Retry-After, where any other unhandled exception is a
/// 500 <c>internal_error</c>. Neither carries a stack trace.
/// </summary>
public sealed class OutageExceptionHandler(ILogger<OutageExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (!DatabaseOutage.IsOutage(exception))
        {
            return false;
        }

        logger.LogWarning("{Method} {Path}: the database is unreachable ({Reason})", httpContext.Request.Method, httpContext.Request.Path, exception.GetType().Name);
        httpContext.Response.Headers.RetryAfter = "5";
        await Problems.Create(StatusCodes.Status503ServiceUnavailable, ErrorTypes.ServiceUnavailable,
            "A store the service needs is unreachable; try again shortly.").ExecuteAsync(httpContext);
        return true;
    }
}
